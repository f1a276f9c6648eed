/** The local ticket and pull-request records on embedded PGlite, the database of the embedded defaults. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertPullRequestOnce } from '../../../src/integrations/pullRequests/localPullRequestStore.js';
import { createLocalTickets } from '../../../src/integrations/tickets/local.js';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';

describe('local records on PGlite', () => {
  let dataDirectory: string;
  let database: Database;

  beforeAll(async () => {
    dataDirectory = mkdtempSync(path.join(tmpdir(), 'prf-pglite-'));
    database = await openDatabase({ Url: null, Schema: 'public', DataDirectory: dataDirectory, PoolSize: 1 });
    await migrateToLatest(database.db, 'public');
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  it('keeps one comment and one pull request per key', async () => {
    const executionId = randomUUID();
    const tickets = createLocalTickets(database.db);
    const ref = {
      tenantId: 'acme',
      executionId,
      ticket: { key: 'P-1', system: 'local' as const, title: '', description: '' },
    };
    const signal = new AbortController().signal;
    const a = await tickets.postComment(ref, 'one', `${executionId}:c:0`, signal);
    const b = await tickets.postComment(ref, 'one again', `${executionId}:c:0`, signal);
    expect(b.id).toBe(a.id);
    expect((await tickets.postedComments(executionId)).map((c) => c.body)).toEqual(['one']);

    const pr = {
      idempotencyKey: `${executionId}:pr:0`,
      tenantId: 'acme',
      executionId,
      repositoryUrl: '/srv/git/demo.git',
      repositoryName: 'demo',
      branch: 'prfactory/P-1',
      baseBranch: 'main',
      title: 't',
      body: 'b',
    };
    const first = await insertPullRequestOnce(database.db, pr);
    const second = await insertPullRequestOnce(database.db, { ...pr, title: 'other' });
    expect(second).toEqual(first);
    expect(first.url).toMatch(/^local:\/\/demo\/pull\/\d+$/);
  });
});

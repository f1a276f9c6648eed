/** Local pull requests: a real origin for the pushed branch, the machine's real PostgreSQL for the record. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitCli } from '../../../src/integrations/git/gitCli.js';
import { createLocalPullRequests } from '../../../src/integrations/pullRequests/local.js';
import type { Repository } from '../../../src/machines/domain.js';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';
import { createSampleOrigin, gitOwner, type SampleOrigin } from '../../support/git.js';

const signal = () => new AbortController().signal;

describe('local pull requests', () => {
  const schema = uniqueSchema('itest');
  let database: Database;
  let origin: SampleOrigin;
  let repository: Repository;
  let workspaces: string;

  beforeAll(async () => {
    database = await openDatabase({
      Url: TEST_DATABASE_URL,
      Schema: schema,
      DataDirectory: 'unused',
      PoolSize: 4,
    });
    await migrateToLatest(database.db, schema);
  });
  afterAll(async () => {
    await database?.close();
    await dropSchema(schema);
  });
  beforeEach(() => {
    origin = createSampleOrigin();
    repository = { url: origin.url, defaultBranch: 'main' };
    workspaces = mkdtempSync(path.join(tmpdir(), 'prf-ws-'));
  });
  afterEach(() => {
    origin.cleanup();
    rmSync(workspaces, { recursive: true, force: true });
  });

  async function pushBranch(executionId: string, branch: string): Promise<void> {
    const git = createGitCli({ workspacesDir: workspaces });
    const { baseCommit } = await git.prepare(gitOwner(executionId), repository, signal());
    await git.commitAndPush(
      gitOwner(executionId),
      repository,
      { baseCommit, branch, message: 'Implement', files: { 'docs/x.md': 'x\n' } },
      signal(),
    );
  }

  it('records a pushed branch once per idempotency key', async () => {
    const pullRequests = createLocalPullRequests(database.db);
    const executionId = randomUUID();
    await pushBranch(executionId, 'prfactory/PROJ-1');
    const request = {
      tenantId: 'acme',
      executionId,
      repository,
      branch: 'prfactory/PROJ-1',
      title: 'PROJ-1: do it',
      body: 'What changed',
    };
    const key = `${executionId}:openPullRequest:0`;

    const first = await pullRequests.open(request, key, signal());
    const second = await pullRequests.open({ ...request, title: 'changed on re-run' }, key, signal());

    expect(second).toEqual(first);
    expect(first.branch).toBe('prfactory/PROJ-1');
    expect(first.url).toMatch(/^local:\/\/origin\/pull\/\d+$/);
    const rows = await database.db
      .selectFrom('pull_requests')
      .selectAll()
      .where('idempotency_key', '=', key)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      tenant_id: 'acme',
      execution_id: executionId,
      repository_url: origin.url,
      branch: 'prfactory/PROJ-1',
      base_branch: 'main',
      title: 'PROJ-1: do it',
      url: `local://origin/pull/${rows[0]!.id}`,
    });
  });

  it('keeps one record when the same key is opened concurrently', async () => {
    const pullRequests = createLocalPullRequests(database.db);
    const executionId = randomUUID();
    await pushBranch(executionId, 'feature/concurrent');
    const key = `${executionId}:openPullRequest:0`;
    const request = {
      tenantId: 'acme',
      executionId,
      repository,
      branch: 'feature/concurrent',
      title: 't',
      body: 'b',
    };
    const results = await Promise.all(
      Array.from({ length: 6 }, () => pullRequests.open(request, key, signal())),
    );
    expect(new Set(results.map((pr) => pr.url)).size).toBe(1);
    const rows = await database.db
      .selectFrom('pull_requests')
      .select('id')
      .where('idempotency_key', '=', key)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('refuses a branch that was never pushed, and the default branch', async () => {
    const pullRequests = createLocalPullRequests(database.db);
    const executionId = randomUUID();
    const request = {
      tenantId: 'acme',
      executionId,
      repository,
      branch: 'not/pushed',
      title: 't',
      body: 'b',
    };
    await expect(pullRequests.open(request, `${executionId}:pr:0`, signal())).rejects.toMatchObject({
      name: 'PullRequestError',
      code: 'BRANCH_NOT_PUSHED',
      message: expect.stringContaining('not/pushed'),
    });
    await expect(
      pullRequests.open({ ...request, branch: 'main' }, `${executionId}:pr:1`, signal()),
    ).rejects.toMatchObject({ code: 'INVALID_BRANCH' });
    const rows = await database.db
      .selectFrom('pull_requests')
      .select('id')
      .where('execution_id', '=', executionId)
      .execute();
    expect(rows).toEqual([]);
  });
});

/** The default ports and the configured policy, wired as the embedded worker uses them. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { createDefaultPorts } from '../../../src/integrations/index.js';
import { createConfigPolicy } from '../../../src/integrations/policy.js';
import { type Database, openDatabase } from '../../../src/persistence/database.js';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';
import { createSampleOrigin, gitOwner } from '../../support/git.js';

const signal = () => new AbortController().signal;

describe('config policy', () => {
  it('reads Tenants.<id> over Tenants.default, and a reloaded configuration', () => {
    const config = parseConfig({
      Tenants: {
        default: { AutoImplementAfterPlanApproval: false },
        acme: { AutoImplementAfterPlanApproval: true },
      },
    });
    const policy = createConfigPolicy(config);
    expect(policy.autoImplementAfterPlanApproval('acme')).toBe(true);
    expect(policy.autoImplementAfterPlanApproval('globex')).toBe(false);
    expect(createConfigPolicy(parseConfig({})).autoImplementAfterPlanApproval('any')).toBe(true);

    let current = config;
    const live = createConfigPolicy(() => current);
    expect(live.autoImplementAfterPlanApproval('globex')).toBe(false);
    current = parseConfig({});
    expect(live.autoImplementAfterPlanApproval('globex')).toBe(true);
  });
});

describe('default ports', () => {
  const schema = uniqueSchema('itest');
  let database: Database;
  let workspacesDir: string;

  beforeAll(async () => {
    database = await openDatabase({
      Url: TEST_DATABASE_URL,
      Schema: schema,
      DataDirectory: 'unused',
      PoolSize: 4,
    });
    await migrateToLatest(database.db, schema);
    workspacesDir = mkdtempSync(path.join(tmpdir(), 'prf-ws-'));
  });
  afterAll(async () => {
    await database?.close();
    await dropSchema(schema);
    rmSync(workspacesDir, { recursive: true, force: true });
  });

  it('take a ticket from a clone to a local pull request', async () => {
    const origin = createSampleOrigin();
    try {
      const ports = createDefaultPorts({ config: parseConfig({}), db: database.db, workspacesDir });
      expect(ports.llm.name).toBe('by tenant');
      const executionId = randomUUID();
      const ticket = { key: 'PROJ-9', system: 'local' as const, title: 'Demo', description: '' };
      const repository = { url: origin.url, defaultBranch: 'main' };

      const { baseCommit, workspace } = await ports.git.prepare(gitOwner(executionId), repository, signal());
      expect(workspace.dir).toBe(path.join(workspacesDir, executionId));
      const files = await ports.git.listFiles(workspace);
      const { markdown } = await ports.llm.generatePlan(
        { tenantId: 'default', executionId, step: 'generatePlan' },
        { ticket, description: 'd', round: 0, rejections: [] },
        signal(),
      );
      const change = await ports.llm.implement(
        { tenantId: 'default', executionId, step: 'implement' },
        { ticket, plan: markdown, repository: { files, relevant: [] } },
        signal(),
      );
      const branch = 'prfactory/PROJ-9';
      await ports.git.commitAndPush(
        gitOwner(executionId),
        repository,
        { baseCommit, branch, message: 'PROJ-9: Demo', files: change.files },
        signal(),
      );
      const pr = await ports.pullRequests.open(
        { tenantId: 'acme', executionId, repository, branch, title: 'PROJ-9: Demo', body: change.summary },
        `${executionId}:openPullRequest:0`,
        signal(),
      );
      expect(pr.url).toMatch(/^local:\/\/origin\/pull\/\d+$/);
      expect(origin.show(branch, 'docs/prfactory/PROJ-9.md')).toContain('Produced offline');
      const comment = await ports.tickets.postComment(
        { tenantId: 'acme', executionId, ticket },
        `Pull request: ${pr.url}`,
        `${executionId}:postPullRequest:0`,
        signal(),
      );
      expect(comment.id).toMatch(/^\d+$/);
      expect(ports.policy.autoImplementAfterPlanApproval('acme')).toBe(true);
    } finally {
      origin.cleanup();
    }
  });
});

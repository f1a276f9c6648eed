/**
 * Credentials from configuration against NATS servers that require them (servers of the test's own): a user
 * with a password, a token, the same in the URL; a wrong one stops the start with an error that shows none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput, DeepPartial } from '../../../src/config.js';
import { isNatsTransportError } from '../../../src/transport/nats/errors.js';
import { createWorker, type Worker } from '../../../src/worker.js';
import { dropSchema, uniqueSchema } from '../../support/database.js';
import { type OwnNats, startOwnNats, uniquePrefix } from '../../support/nats.js';
import { recordingAgents, stepsGraph } from '../../support/testGraphs.js';
import { testConfig } from '../../support/worker.js';

describe('NATS credentials', () => {
  const servers: OwnNats[] = [];
  const workers: Worker[] = [];
  const schema = uniqueSchema('w');
  const workspaces = mkdtempSync(path.join(tmpdir(), 'prf-ws-'));
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop(1000);
    for (const s of servers.splice(0)) await s.cleanup();
  });
  afterAll(async () => {
    await dropSchema(schema);
    rmSync(workspaces, { recursive: true, force: true });
  });

  const worker = (nats: DeepPartial<ConfigInput>['Nats']) =>
    createWorker({
      config: testConfig(schema, workspaces, { Nats: { SubjectPrefix: uniquePrefix(), ...nats } }),
      graphs: [stepsGraph('steps', 1)],
      agents: recordingAgents(['step1'], []),
    });

  async function startsAndIsReady(nats: DeepPartial<ConfigInput>['Nats']): Promise<void> {
    const w = await worker(nats);
    workers.push(w);
    await w.start();
    expect((await w.service.readiness()).checks.nats).toBe(true);
  }

  async function refusal(nats: DeepPartial<ConfigInput>['Nats']): Promise<Error> {
    try {
      workers.push(await worker(nats));
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected the connection to be refused');
  }

  it('connects with a user and password, or a token, from the configuration or the URL', async () => {
    const withUser = await startOwnNats(['--user', 'ana', '--pass', 's3cret-pw']);
    const withToken = await startOwnNats(['--auth', 's3cret-token']);
    servers.push(withUser, withToken);
    const host = (s: OwnNats) => s.url.replace('nats://', '');

    await startsAndIsReady({ Url: withUser.url, User: 'ana', Password: 's3cret-pw' });
    await startsAndIsReady({ Url: `nats://ana:s3cret-pw@${host(withUser)}` });
    await startsAndIsReady({ Url: withToken.url, Token: 's3cret-token' });
    await startsAndIsReady({ Url: `nats://s3cret-token@${host(withToken)}` });

    const wrong = await refusal({ Url: withUser.url, User: 'ana', Password: 'wrong-pw' });
    expect(isNatsTransportError(wrong, 'NATS_UNREACHABLE')).toBe(true);
    expect(wrong.message).toMatch(
      /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: .*(auth|Authorization)/i,
    );
    const inUrl = await refusal({ Url: `nats://s3cret-wrong@${host(withToken)}` });
    expect(inUrl.message).not.toMatch(/s3cret/);
  });
});

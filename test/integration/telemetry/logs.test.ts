/**
 * Logs (docs/operations.md): JSON lines on stdout and in `Logging.Directory/worker-YYYY-MM-DD.log`, every line with
 * `hostname` and `pid`, an execution's lines with its ids, state and trace; configured secrets never written,
 * not even inside an error message. The worker runs in this process with the real logger; only its stdout
 * stream is swapped for an array (the scrubbing happens before either destination is written).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import { secretsOf } from '../../../src/redaction.js';
import { DailyFileDestination, logFileName } from '../../../src/telemetry/dailyFile.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import type { Worker } from '../../../src/worker.js';
import { TEST_DATABASE_URL } from '../../support/database.js';
import { startBody, stepsGraph } from '../../support/testGraphs.js';
import { startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
// The machine's PostgreSQL trusts local connections, so a password in the URL is accepted and ignored.
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const DATABASE_URL = (() => {
  const url = new URL(TEST_DATABASE_URL);
  url.password = PASSWORD;
  return url.toString();
})();

type Line = Record<string, unknown>;

const parse = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line);

describe('logs', () => {
  let cluster: TestCluster;
  let worker: Worker;
  let dir: string;
  const stdout: string[] = [];
  let healthyId: string;
  let leakyId: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'prf-logs-'));
    const logging = { Level: 'debug' as const, Directory: dir, RetainDays: 3 };
    const log = createLogger({
      config: logging,
      secrets: secretsOf({
        Http: { ApiToken: TOKEN },
        Database: { Url: DATABASE_URL },
        Nats: { Url: null },
      }),
      destination: { write: (line: string) => stdout.push(line) },
    });
    // step1 logs through its context; step2 fails with the secrets in its message, as a careless library
    // would (an error quoting the request's token and the connection string).
    const agents: Record<string, AgentFn<never, unknown>> = {
      step1: (async (input: { executionId: string }, ctx) => {
        ctx.log.info({ executionId: input.executionId, note: `calling with ${TOKEN}` }, 'step one');
        return { ok: true };
      }) as AgentFn<never, unknown>,
      step2: (async () => {
        throw new Error(
          `upstream refused Authorization: Bearer ${TOKEN} while reading postgres://app:${PASSWORD}@db.internal/prf (password ${PASSWORD})`,
        );
      }) as AgentFn<never, unknown>,
    };
    cluster = await startCluster(0);
    worker = await cluster.add({
      http: true,
      logger: log,
      graphs: [stepsGraph('fine', 1), stepsGraph('leaky', 2)],
      agents,
      config: {
        Http: { ApiToken: TOKEN },
        Database: { Url: DATABASE_URL },
        AgentHost: { MaxRetries: 0 },
        Logging: logging,
      },
    });
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const start = async (graph: string) => {
      const response = await fetch(`${worker.url}/v1/executions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify(startBody(graph)),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { executionId: string }).executionId;
    };
    healthyId = await start('fine');
    leakyId = await start('leaky');
    await waitForStatus(worker, healthyId, ['completed']);
    await waitForStatus(worker, leakyId, ['failed']);
    // The token in a query string (logged with the request's URL), and a wrong token (401).
    expect((await fetch(`${worker.url}/v1/executions?cursor=${TOKEN}`, { headers: auth })).status).toBe(400);
    expect(
      (await fetch(`${worker.url}/v1/executions`, { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    await worker.stop(); // everything is logged, up to 'worker stopped'
  });

  afterAll(async () => {
    await cluster?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes worker-<today, UTC>.log holding the same JSON lines as stdout', () => {
    const name = `worker-${new Date().toISOString().slice(0, 10)}.log`;
    expect(readdirSync(dir)).toEqual([name]);
    const file = readFileSync(path.join(dir, name), 'utf8');
    expect(file.endsWith('\n')).toBe(true);
    const lines = parse(file);
    expect(lines.length).toBeGreaterThan(20);
    expect(lines).toEqual(parse(stdout.join('')));
  });

  it('gives every line hostname and pid, and an execution’s lines its ids, state and trace', () => {
    const lines = parse(stdout.join(''));
    for (const line of lines) {
      expect(line).toMatchObject({ hostname: hostname(), pid: process.pid });
      expect(typeof line.time).toBe('string');
    }
    for (const [id, graph] of [
      [healthyId, 'fine'],
      [leakyId, 'leaky'],
    ] as const) {
      const mine = lines.filter((l) => l.executionId === id && l.component !== 'host');
      expect(mine.length, `lines of ${graph}`).toBeGreaterThan(0);
      for (const line of mine) {
        expect(line, JSON.stringify(line)).toMatchObject({
          executionId: id,
          tenantId: 'acme',
          graph,
          traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
          spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
          state: expect.stringMatching(/^(step\d|done)$/),
        });
      }
    }
    // An agent's own lines carry the state it runs in.
    expect(lines.find((l) => l.executionId === healthyId && l.msg === 'step one')).toMatchObject({
      state: 'step1',
      note: 'calling with [redacted]',
    });
    const failure = lines.find((l) => l.executionId === leakyId && l.msg === 'execution failed');
    expect(failure, 'the failure is logged, its message scrubbed').toMatchObject({
      state: 'step2',
      reason: expect.stringContaining('upstream refused Authorization: Bearer [redacted]'),
    });
    expect(String(failure?.reason)).toContain('postgres://[redacted]@db.internal/prf (password [redacted])');
  });

  it('never writes a configured secret, in any form, on stdout or in the file', () => {
    const everything = [
      stdout.join(''),
      ...readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8')),
    ];
    const forms = [TOKEN, PASSWORD, encodeURIComponent(PASSWORD), DATABASE_URL];
    for (const text of everything) {
      for (const secret of forms) expect(text.includes(secret), `"${secret}" leaked`).toBe(false);
    }
    // The lines that would have carried them are there, scrubbed.
    const lines = parse(everything[0]!);
    expect(
      lines.find((l) => l.msg === 'incoming request' && String((l.req as Line)?.url).includes('cursor')),
    ).toMatchObject({ req: { url: '/v1/executions?cursor=[redacted]' } });
  });
});

describe('the daily file', () => {
  it('rolls over at midnight UTC and deletes files older than RetainDays', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prf-roll-'));
    try {
      writeFileSync(path.join(dir, 'worker-2026-01-01.log'), '{}\n');
      writeFileSync(path.join(dir, 'worker-2026-01-07.log'), '{}\n');
      writeFileSync(path.join(dir, 'notes.txt'), 'not ours');
      let now = new Date('2026-01-10T23:59:59.000Z');
      const file = new DailyFileDestination(dir, 3, () => now);
      file.write('{"n":1}\n');
      // 9 days old: deleted; 3 days old: kept; a file that is not a log: never touched.
      expect(readdirSync(dir).sort()).toEqual([
        'notes.txt',
        'worker-2026-01-07.log',
        'worker-2026-01-10.log',
      ]);
      now = new Date('2026-01-11T00:00:01.000Z');
      file.write('{"n":2}\n');
      expect(readdirSync(dir).sort()).toEqual([
        'notes.txt',
        'worker-2026-01-10.log',
        'worker-2026-01-11.log',
      ]);
      expect(readFileSync(path.join(dir, logFileName(now)), 'utf8')).toBe('{"n":2}\n');
      expect(readFileSync(path.join(dir, 'worker-2026-01-10.log'), 'utf8')).toBe('{"n":1}\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the secrets of a configuration', () => {
  it('include the API token, URL passwords, NATS tokens (also in a NATS URL) and NATS passwords', () => {
    const secrets = secretsOf({
      Http: { ApiToken: 'api-token-1' },
      Database: { Url: 'postgres://app:p%40ssword@db:5432/prf' },
      Nats: {
        Url: 'nats://svc:nats-pass@n1:4222, nats://token-in-url@n2:4222,nats://n3:4222',
        Password: 'nats-password-2',
        Token: 'nats-token-3',
      },
    });
    expect(secrets.sort()).toEqual(
      ['api-token-1', 'nats-pass', 'nats-password-2', 'nats-token-3', 'p@ssword', 'token-in-url'].sort(),
    );
    // A database user name is not a secret; only NATS puts a token where the user goes.
    expect(secrets).not.toContain('app');
  });
});

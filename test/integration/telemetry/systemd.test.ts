/**
 * Service manager integration: `prfactory-worker run` in a real child process with `NOTIFY_SOCKET` pointing at
 * a fake notify socket (a unix datagram socket opened by a small python3 helper: Node cannot), as systemd
 * runs a `Type=notify` unit. READY=1 must come only when the worker serves — migrations applied, HTTP
 * answering, the claim loop through its first pass — and STOPPING=1 when SIGTERM starts the drain. The same
 * process's real stdout and daily log file are checked for the configured secrets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../../src/persistence/migrate.js';
import { createSystemdNotifier } from '../../../src/telemetry/systemdNotify.js';
import { createWorker, type Worker } from '../../../src/worker.js';
import { builtCli } from '../../support/builtCli.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';
import { createSampleOrigin, type SampleOrigin } from '../../support/git.js';
import { meta, testConfig } from '../../support/worker.js';

const helper = path.resolve('test/support/notify-socket.py');

interface Notification {
  pid: number;
  uid: number;
  fields: Record<string, string>;
  fds: number;
  /** Date.now() when the test read it */
  at: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The fake notify socket: a python3 child bound to `socketPath`, its datagrams as parsed lines. */
async function startNotifySocket(socketPath: string) {
  const child = spawn('python3', [helper, socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const received: Notification[] = [];
  const listening = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`notify-socket.py exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Partial<Notification> & { listening?: string };
      if (parsed.listening) resolve();
      else received.push({ ...(parsed as Notification), at: Date.now() });
    });
  });
  await listening;
  const waitFor = async (key: string, timeoutMs = 30_000): Promise<Notification> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = received.find((n) => n.fields[key] === '1');
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`no ${key}=1 in ${timeoutMs} ms: ${JSON.stringify(received)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { received, waitFor, close: () => child.stdin!.end() };
}

describe('prfactory-worker run under a service manager (NOTIFY_SOCKET)', () => {
  const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
  const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
  const schema = uniqueSchema('sd');
  const dir = mkdtempSync(path.join(tmpdir(), 'prf-systemd-'));
  const logs = path.join(dir, 'logs');
  let origin: SampleOrigin;
  let notify: Awaited<ReturnType<typeof startNotifySocket>>;
  let submitter: Worker;
  let worker: ChildProcess;
  let url: string;
  const stdout: string[] = [];
  let exit: Promise<number | null>;
  let executionId: string;
  let ready: Notification;
  let readyz: number;
  let statusAtReady: string;
  let stopping: Notification;
  let exitCode: number | null;

  beforeAll(async () => {
    origin = createSampleOrigin();
    notify = await startNotifySocket(path.join(dir, 'notify'));
    // An execution waiting before the worker starts: the first claim pass must have taken it by READY=1.
    submitter = await createWorker({ config: testConfig(schema, path.join(dir, 'ws')) });
    await migrateToLatest(submitter.database.db, schema);
    ({ executionId } = await submitter.service.start(
      {
        graph: 'refinement',
        tenantId: 'acme',
        ticket: { key: 'SD-1', title: 'Readiness' },
        repository: { url: origin.url },
      },
      meta,
    ));
    const database = new URL(TEST_DATABASE_URL);
    database.password = PASSWORD; // the machine's PostgreSQL trusts local connections: accepted, ignored
    url = `http://127.0.0.1:${await freePort()}`;
    worker = spawn(process.execPath, [await builtCli(), 'run'], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        NOTIFY_SOCKET: path.join(dir, 'notify'),
        DATABASE_URL: database.toString(),
        NATS_URL: '',
        Database__Schema: schema,
        Http__Port: url.split(':')[2],
        Http__ApiToken: TOKEN,
        AgentHost__PollIntervalSeconds: '0.2',
        AgentHost__GracefulShutdownTimeoutSeconds: '5',
        Logging__Directory: logs,
        Workspaces__Directory: path.join(dir, 'ws'),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    exit = new Promise((resolve) => worker.once('exit', (code) => resolve(code)));
    createInterface({ input: worker.stdout! }).on('line', (line) => stdout.push(line));

    ready = await notify.waitFor('READY');
    // Right at READY=1: the API answers and is ready, and the waiting execution is claimed.
    readyz = (await fetch(`${url}/readyz`)).status;
    statusAtReady = (await submitter.service.get(executionId)).status;
    worker.kill('SIGTERM');
    stopping = await notify.waitFor('STOPPING');
    exitCode = await exit;
  }, 90_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    notify?.close();
    await submitter?.stop().catch(() => {});
    await dropSchema(schema);
    origin?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends READY=1 once migrated, serving HTTP and through the first claim pass', () => {
    expect(ready.fields).toMatchObject({
      READY: '1',
      MAINPID: String(worker.pid),
      STATUS: expect.stringMatching(new RegExp(`^claiming as .+; HTTP on ${url}$`)),
    });
    expect(readyz).toBe(200);
    expect(statusAtReady).not.toBe('pending');
    // Sent once, and nothing before it but nothing at all: no STOPPING, no second READY.
    const messages = notify.received.filter((n) => !n.fields.BARRIER);
    expect(
      messages.map((n) => Object.keys(n.fields).filter((k) => k !== 'MAINPID' && k !== 'STATUS')),
    ).toEqual([['READY'], ['STOPPING']]);
  });

  it('sends STOPPING=1 when SIGTERM starts the drain, then exits 0', () => {
    expect(stopping.fields).toMatchObject({
      STOPPING: '1',
      MAINPID: String(worker.pid),
      STATUS: expect.stringContaining('draining'),
    });
    expect(stopping.at).toBeGreaterThan(ready.at);
    expect(exitCode).toBe(0);
    // systemd-notify waited for the socket's owner to process each message (BARRIER=1 with a descriptor).
    expect(notify.received.filter((n) => n.fields.BARRIER === '1' && n.fds === 1)).toHaveLength(2);
  });

  it('logs JSON lines with hostname and pid on stdout and in the daily file, and never the secrets', () => {
    expect(stdout.length).toBeGreaterThan(5);
    const lines = stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const line of lines) expect(line).toMatchObject({ hostname: hostname(), pid: worker.pid });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['opening database', 'worker started']));
    const file = `worker-${new Date().toISOString().slice(0, 10)}.log`;
    expect(readdirSync(logs)).toContain(file);
    const text = readFileSync(path.join(logs, file), 'utf8');
    for (const secret of [TOKEN, PASSWORD]) {
      expect(stdout.join('\n').includes(secret), 'stdout').toBe(false);
      expect(text.includes(secret), 'file').toBe(false);
    }
  });
});

describe('createSystemdNotifier', () => {
  it('does nothing without NOTIFY_SOCKET', async () => {
    const notifier = createSystemdNotifier({ env: {}, command: '/nonexistent/systemd-notify' });
    expect(notifier.enabled).toBe(false);
    await notifier.ready('x');
  });

  it('warns once and carries on when the message cannot be sent', async () => {
    const warnings: unknown[] = [];
    const notifier = createSystemdNotifier({
      env: { NOTIFY_SOCKET: '/nonexistent/notify' },
      log: { warn: (obj: unknown) => warnings.push(obj), debug: () => {} } as never,
    });
    await notifier.ready('a');
    await notifier.stopping('b');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ socket: '/nonexistent/notify' });
  });
});

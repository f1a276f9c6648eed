/**
 * `prfactory-worker run` in a real child process, as an operator starts it, for tests about the process itself:
 * limits of the operating system (`ulimit -n`), where stdout goes (`/dev/full`, closed, a pipe nobody reads).
 * It runs on its own schema of the test database, without NATS, with its HTTP API on a free loopback port and
 * JSON logs on stdout and in `<dir>/logs`.
 *
 * `shell` is run by `sh` before the worker replaces it (`ulimit -n 256`, `exec 1>&-`); the worker's own command
 * line is `"$@"`. stdout is `'pipe'` (read into `stdout`), `'ignore'`, or a descriptor the test opened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { builtCli } from './builtCli.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from './database.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface CliWorkerOptions {
  shell?: string;
  stdout?: 'pipe' | 'ignore' | number;
  /** configuration variables added to the environment (`Http__MaxConnections`…) */
  env?: Record<string, string>;
  /** called with the log folder before the worker starts (to plant a file there) */
  prepareLogs?: (directory: string) => void;
}

export interface CliWorker {
  child: ChildProcess;
  url: string;
  /** `<dir>/logs`: the daily log files */
  logs: string;
  stdout: string[];
  stderr: string[];
  /** the exit code or signal, once it exited */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** the first line of `stream` matching `predicate`, written already or to come; rejects on exit or after `timeoutMs` */
  waitForLine(
    stream: 'stdout' | 'stderr',
    predicate: (line: string) => boolean,
    timeoutMs?: number,
  ): Promise<string>;
  /** resolves once `GET /healthz` answers 200; rejects if the process exits first or after `timeoutMs` */
  healthy(timeoutMs?: number): Promise<void>;
  /** SIGKILLs it if it still runs, drops its schema and folder */
  cleanup(): Promise<void>;
}

export async function startCliWorker(options: CliWorkerOptions = {}): Promise<CliWorker> {
  const dir = mkdtempSync(path.join(tmpdir(), 'prf-cli-worker-'));
  const logs = path.join(dir, 'logs');
  mkdirSync(logs);
  options.prepareLogs?.(logs);
  const schema = uniqueSchema('cli');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const command = [process.execPath, await builtCli(), 'run', '--config-dir', dir];
  const child = spawn('sh', ['-c', `${options.shell ?? ':'}; exec "$@"`, 'sh', ...command], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: TEST_DATABASE_URL,
      NATS_URL: '',
      Database__Schema: schema,
      Database__PoolSize: '4',
      Http__Port: String(port),
      AgentHost__PollIntervalSeconds: '0.5',
      AgentHost__GracefulShutdownTimeoutSeconds: '2',
      Logging__Directory: logs,
      Workspaces__Directory: path.join(dir, 'workspaces'),
      ...options.env,
    },
    stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const lineListeners = new Set<() => void>();
  const collect = (lines: string[]) => (line: string) => {
    lines.push(line);
    for (const listener of [...lineListeners]) listener();
  };
  if (child.stdout) createInterface({ input: child.stdout }).on('line', collect(stdout));
  createInterface({ input: child.stderr! }).on('line', collect(stderr));
  let exit: CliWorker['exit'];
  const exited = new Promise<NonNullable<CliWorker['exit']>>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });

  return {
    child,
    url,
    logs,
    stdout,
    stderr,
    get exit() {
      return exit;
    },
    exited,
    waitForLine(stream, predicate, timeoutMs = 30_000) {
      const lines = stream === 'stdout' ? stdout : stderr;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => settle(() => reject(new Error(`no such ${stream} line in ${timeoutMs} ms`))),
          timeoutMs,
        );
        const settle = (done: () => void) => {
          clearTimeout(timer);
          lineListeners.delete(check);
          done();
        };
        const check = () => {
          const found = lines.find(predicate);
          if (found !== undefined) settle(() => resolve(found));
          else if (exit)
            settle(() => reject(new Error(`the worker exited: ${stderr.slice(-10).join('\n')}`)));
        };
        lineListeners.add(check);
        void exited.then(check);
        check();
      });
    },
    async healthy(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exit) {
          throw new Error(`the worker exited (${exit.code ?? exit.signal}): ${stderr.slice(-20).join('\n')}`);
        }
        const status = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) return;
        if (Date.now() > deadline) throw new Error(`no healthy worker at ${url} in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async cleanup() {
      if (!exit) {
        child.kill('SIGKILL');
        await exited;
      }
      await dropSchema(schema);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

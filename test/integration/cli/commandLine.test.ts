/**
 * The real command line as a user runs it: `demo` on embedded defaults, and `run` on PostgreSQL driven by the
 * client commands (`submit`, `status`, `resume`, `list`), with exit codes and stdout as docs/api.md says.
 * They run the built `dist/cli.js`, as an installed worker does, built first unless it matches the sources.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCli } from '../../support/builtCli.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../support/database.js';
import { createSampleOrigin, type SampleOrigin } from '../../support/git.js';

const run = promisify(execFile);
let cli: string;

beforeAll(async () => {
  cli = await builtCli();
}, 180_000);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function prf(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the command line', () => {
  it('demo runs a ticket end to end on embedded defaults and exits 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prf-demo-test-'));
    try {
      const result = await prf(['demo', '--dir', dir], { DATABASE_URL: '', NATS_URL: '' });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('The agent asks:');
      expect(result.stdout).toContain('The ticket’s people answer:');
      expect(result.stdout).toMatch(/The plan \(branch prfactory\/plan\/demo-1-[0-9a-f]{8}\)/);
      expect(result.stdout).toContain('Ana approves the plan.');
      expect(result.stdout).toMatch(/pull request: local:\/\/greeter\/pull\/1/);
      expect(result.stdout).toMatch(/prfactory\/plan\/demo-1-[0-9a-f]{8} [0-9a-f]+ /);
      expect(result.stdout).toMatch(/prfactory\/demo-1-[0-9a-f]{8} [0-9a-f]+ /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad configuration exits 2 naming the key', async () => {
    const result = await prf(['migrate'], { AgentHost__BatchSize: 'lots', DATABASE_URL: TEST_DATABASE_URL });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('AgentHost.BatchSize');
  });

  it('run drains on a SIGTERM that comes while it starts, and exits 0', async () => {
    const schema = uniqueSchema('cli');
    const workspaces = mkdtempSync(path.join(tmpdir(), 'prf-cli-ws-'));
    try {
      const child = spawn(process.execPath, [cli, 'run'], {
        env: {
          ...process.env,
          DATABASE_URL: TEST_DATABASE_URL,
          NATS_URL: '',
          Database__Schema: schema,
          Http__Port: String(await freePort()),
          Logging__Directory: '',
          Workspaces__Directory: workspaces,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      // the first line start() logs, on a new schema: the HTTP API and the first claim pass are still to come
      const lines = createInterface({ input: child.stdout });
      for await (const line of lines) {
        if (line.includes('"database migrated"')) break;
      }
      child.kill('SIGTERM');
      expect(await exited, stderr).toEqual({ code: 0, signal: null });
    } finally {
      await dropSchema(schema);
      rmSync(workspaces, { recursive: true, force: true });
    }
  });

  describe('run, driven by the client commands', () => {
    let worker: ChildProcess;
    let url: string;
    let origin: SampleOrigin;
    const schema = uniqueSchema('cli');
    const workspaces = mkdtempSync(path.join(tmpdir(), 'prf-cli-ws-'));
    beforeAll(async () => {
      origin = createSampleOrigin();
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      worker = spawn(process.execPath, [cli, 'run'], {
        env: {
          ...process.env,
          DATABASE_URL: TEST_DATABASE_URL,
          NATS_URL: '',
          Database__Schema: schema,
          Http__Port: String(port),
          AgentHost__PollIntervalSeconds: '0.2',
          Logging__Directory: '',
          Workspaces__Directory: workspaces,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      for (let i = 0; i < 100; i++) {
        const ok = await fetch(`${url}/readyz`)
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the worker did not become ready');
    });
    afterAll(async () => {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
      await dropSchema(schema);
      origin.cleanup();
      rmSync(workspaces, { recursive: true, force: true });
    });

    it('submits, shows, resumes and lists', async () => {
      const submitted = await prf([
        'submit',
        'refinement',
        '--tenant',
        'acme',
        '--ticket',
        'CLI-1',
        '--title',
        'From the CLI',
        '--repo',
        origin.url,
        '--url',
        url,
      ]);
      expect(submitted.code, submitted.stderr).toBe(0);
      const id = submitted.stdout.trim();
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      let status: Record<string, unknown> = {};
      for (let i = 0; i < 100 && status.status !== 'suspended'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = JSON.parse((await prf(['status', id, '--json', '--url', url])).stdout);
      }
      expect(status.waitingFor).toEqual(['answers_received']);
      const wrong = await prf([
        'resume',
        id,
        'plan_approved',
        '--tenant',
        'acme',
        '--by',
        'ana',
        '--url',
        url,
      ]);
      expect(wrong.code).toBe(1);
      const resumed = await prf([
        'resume',
        id,
        'answers_received',
        '--tenant',
        'acme',
        '--answers',
        '{"q1":"yes"}',
        '--url',
        url,
      ]);
      expect(resumed.code, resumed.stderr).toBe(0);
      for (let i = 0; i < 100 && status.status !== 'completed'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = JSON.parse((await prf(['status', id, '--json', '--url', url])).stdout);
      }
      expect(status.status).toBe('completed');
      const listed = await prf(['list', '--json', '--url', url]);
      expect(JSON.parse(listed.stdout).items.map((e: { executionId: string }) => e.executionId)).toContain(
        id,
      );
      const usage = await prf([
        'resume',
        id,
        'answers_received',
        '--tenant',
        'acme',
        '--answers',
        '{not json',
        '--url',
        url,
      ]);
      expect(usage.code).toBe(2);
    });
  });
});

/**
 * A tiny real HTTP server on loopback standing in for a worker: it records every request and answers what
 * the test told it to, so the CLI tests see the requests exactly as they travel.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createProgram,
  type ProgramOptions,
  registerClientCommands,
  runProgram,
} from '../../../src/cli/index.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface Answer {
  status: number;
  body: unknown;
}

export class FakeWorker {
  readonly requests: RecordedRequest[] = [];
  /** answers by `METHOD /path` (without the query); unlisted routes get 404 */
  readonly answers = new Map<string, Answer>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const text = Buffer.concat(chunks).toString('utf8');
        this.requests.push({
          method: req.method ?? '',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body: text ? JSON.parse(text) : undefined,
        });
        const answer = this.answers.get(`${req.method} ${url.pathname}`) ?? {
          status: 404,
          body: { error: { code: 'not_found', message: `no route ${req.method} ${url.pathname}` } },
        };
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  answer(route: string, status: number, body: unknown): void {
    this.answers.set(route, { status, body });
  }

  get last(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the client commands in-process with captured output, as `prfactory-worker <args>` would. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  options: ProgramOptions & { cwd?: string } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    cwd: options.cwd ?? '/work/here',
  };
  const program = createProgram(io, options);
  registerClientCommands(program, io);
  const code = await runProgram(program, args, io);
  return { code, stdout, stderr };
}

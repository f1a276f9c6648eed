/**
 * The parent's handle on one worker child process (test/support/workerProcess.ts): spawn it, wait until it
 * claims, read its logs as parsed JSON, signal it, and learn how and when it exited.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WorkerProcessSettings } from './settings.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const script = path.join(root, 'test/support/workerProcess.ts');

/** A pino line of the child's stderr. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** What the kernel says of the child's memory (`/proc/<pid>/status`), in bytes. */
export interface ProcessMemory {
  /** VmRSS: resident now */
  rssBytes: number;
  /** VmHWM: the most it was ever resident */
  peakRssBytes: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `Date.now()` when the parent saw it */
  at: number;
}

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logs: LogLine[] = [];
  /** resolves on the child's `{"ready":true}` line; rejects if it exits first */
  readonly ready: Promise<void>;
  /** the child's HTTP API (settings `http: true`), known once it is ready */
  url: string | undefined;
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;
  private readonly listeners = new Set<() => void>();
  /** stderr lines that are not JSON (a crash before the logger existed) */
  readonly rawStderr: string[] = [];

  constructor(readonly settings: WorkerProcessSettings) {
    const flags = settings.execArgv ?? [];
    this.child = spawn(process.execPath, [...flags, '--import', 'tsx', script, JSON.stringify(settings)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test', ...settings.env },
    });
    if (this.child.pid === undefined) throw new Error(`worker process ${settings.workerId} did not spawn`);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        this.notify();
        resolve(this.exit);
      });
    });
    this.ready = new Promise((resolve, reject) => {
      createInterface({ input: this.child.stdout! }).on('line', (line) => {
        const parsed = parseJson(line);
        if (parsed?.ready !== true) return;
        if (typeof parsed.url === 'string') this.url = parsed.url;
        resolve();
      });
      void this.exited.then((exit) =>
        reject(
          new Error(
            `worker process ${settings.workerId} exited (${exit.code ?? exit.signal}) before it was ready: ${this.rawStderr.join('\n')}${this.logs
              .slice(-5)
              .map((l) => JSON.stringify(l))
              .join('\n')}`,
          ),
        ),
      );
    });
    // A rejection nobody awaits (the test moved on) must not fail the run as unhandled.
    this.ready.catch(() => {});
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      const parsed = parseJson(line);
      if (parsed && typeof parsed.msg === 'string') this.logs.push(parsed as LogLine);
      else this.rawStderr.push(line);
      this.notify();
    });
  }

  get workerId(): string {
    return this.settings.workerId;
  }

  /** undefined while it runs */
  get exitInfo(): ProcessExit | undefined {
    return this.exit;
  }

  /** Its resident memory now, read from `/proc/<pid>/status` (Linux); undefined once it exited. */
  memory(): ProcessMemory | undefined {
    if (this.exit) return undefined;
    let status: string;
    try {
      status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    } catch {
      return undefined; // gone between the check and the read
    }
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN);
    return { rssBytes: kib('VmRSS') * 1024, peakRssBytes: kib('VmHWM') * 1024 };
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.exit) this.child.kill(signal);
  }

  /** SIGKILL, then wait for the exit. */
  async kill(): Promise<ProcessExit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** The first log line matching `predicate` (already logged or to come); throws after `timeoutMs` or on exit. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.logs.find(predicate);
        if (found) done(() => resolve(found));
        else if (this.exit)
          done(() => reject(new Error(`worker ${this.workerId} exited before the log line`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`worker ${this.workerId}: no such log line in ${timeoutMs} ms`))),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** The exit, or an error if it takes longer than `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<ProcessExit> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`worker ${this.workerId} did not exit within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

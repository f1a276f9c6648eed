/**
 * Runs a coding agent's program in its own process group, and ends the whole group when it must stop.
 *
 * An agent is a tree of processes (claude runs node and ripgrep, aider runs Python and git, any agent may start
 * a test runner or a dev server), so the program is spawned `detached` — the leader of a new process group — and
 * stopping signals the group, `process.kill(-pid)`. On timeout, abort or cancel: SIGTERM to the group, then
 * SIGKILL to the group 5 s later if anything of it is left (anthropics/claude-code-action does the same). When
 * the program exits by itself, whatever it left running in its group is killed at once: nothing of the agent
 * may go on writing into the working tree while the worker collects the change. A process that leaves the group
 * on purpose (`setsid`) escapes this; containing that needs a cgroup or a container around the worker.
 *
 * Output is bounded: stdout is handed over line by line as it comes and not kept (a run can print megabytes of
 * JSON events); of stderr only the tail is kept, for the failure's reason.
 */
import { spawn } from 'node:child_process';

/** Grace between SIGTERM and SIGKILL. */
export const KILL_AFTER_MS = 5_000;
/** A stdout line longer than this is skipped (a result line of claude-code is a few KB). */
export const MAX_LINE_CHARS = 1_048_576;
/** Kept of stderr: the end holds the error. */
const STDERR_TAIL_CHARS = 16_384;
const GROUP_POLL_MS = 50;
const REAP_WAIT_MS = 1_000;

export interface AgentProcessOptions {
  /** program and arguments; the program is looked up in `env.PATH` when it has no slash */
  argv: readonly string[];
  cwd: string;
  /** the whole environment of the program (nothing is inherited) */
  env: Record<string, string>;
  /** written to stdin, which is then closed; absent: stdin is closed at once */
  input?: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** each line of stdout as it comes */
  onLine(line: string): void;
  /** default {@link KILL_AFTER_MS} */
  killAfterMs?: number;
}

export interface AgentProcessResult {
  /** `exited`: by itself; `timedOut` / `aborted`: stopped by the worker */
  outcome: 'exited' | 'timedOut' | 'aborted';
  exitCode: number | null;
  /** the signal that ended the program, if one did */
  exitSignal: NodeJS.Signals | null;
  stderrTail: string;
}

/** The program could not be started (not installed, not executable, no such working directory). */
export class AgentSpawnError extends Error {
  override readonly name = 'AgentSpawnError';
  constructor(
    readonly program: string,
    options: { cause: Error },
  ) {
    super(`${program} could not be started: ${options.cause.message}`, options);
  }
}

/**
 * Runs the program to its end, or stops it; resolves once its process group is gone. Rejects only with
 * {@link AgentSpawnError}.
 */
export function runAgentProcess(options: AgentProcessOptions): Promise<AgentProcessResult> {
  const [program, ...args] = options.argv;
  if (program === undefined) return Promise.reject(new Error('runAgentProcess needs a program'));
  const killAfterMs = options.killAfterMs ?? KILL_AFTER_MS;
  return new Promise<AgentProcessResult>((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stopping: 'timedOut' | 'aborted' | undefined;
    let killedAt: number | undefined;
    let closed: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    let settled = false;
    let stderr = '';
    const timers: NodeJS.Timeout[] = [];
    let poll: NodeJS.Timeout | undefined;

    const signalGroup = (name: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      if (name === 'SIGKILL') killedAt ??= Date.now();
      try {
        process.kill(-child.pid, name);
      } catch {
        // ESRCH: nothing of the group is left.
      }
    };
    const groupAlive = () => {
      if (child.pid === undefined) return false;
      try {
        process.kill(-child.pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
      }
    };
    /**
     * Settles once stdio is closed and the group is gone. A killed process whose parent is gone lingers as a
     * zombie until init reaps it, which some containers' init never does: {@link REAP_WAIT_MS} after the KILL
     * the group counts as gone.
     */
    const settleWhenGone = () => {
      if (settled || closed === undefined) return;
      const reaped = killedAt !== undefined && Date.now() - killedAt >= REAP_WAIT_MS;
      if (groupAlive() && !reaped) {
        poll = setTimeout(settleWhenGone, GROUP_POLL_MS);
        return;
      }
      settled = true;
      for (const timer of [...timers, poll]) clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      if (spawnError) return reject(new AgentSpawnError(program, { cause: spawnError }));
      resolve({
        outcome: stopping ?? 'exited',
        exitCode: closed.code,
        exitSignal: closed.signal,
        stderrTail: stderr,
      });
    };
    const stop = (why: 'timedOut' | 'aborted') => {
      if (stopping !== undefined || closed !== undefined) return;
      stopping = why;
      signalGroup('SIGTERM');
      timers.push(setTimeout(() => signalGroup('SIGKILL'), killAfterMs));
    };
    const onAbort = () => stop('aborted');

    timers.push(setTimeout(() => stop('timedOut'), options.timeoutMs));
    if (options.signal.aborted) stop('aborted');
    else options.signal.addEventListener('abort', onAbort, { once: true });

    readLines(child.stdout, options.onLine);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    // The program may exit without reading its input: EPIPE is reported by the exit code instead.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');

    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('exit', () => {
      // The program is done; anything it left running in its group goes now (unless the TERM grace runs).
      if (stopping === undefined) signalGroup('SIGKILL');
    });
    child.on('close', (code, signal) => {
      closed = { code, signal };
      settleWhenGone();
    });
  });
}

/** Hands `stream`'s lines to `onLine` as they come; a line over {@link MAX_LINE_CHARS} is skipped whole. */
function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  let overflowing = false;
  const emit = (line: string) => {
    if (!overflowing && line.length <= MAX_LINE_CHARS) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    overflowing = false;
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    let start = 0;
    for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
      emit(pending + chunk.slice(start, newline));
      pending = '';
      start = newline + 1;
    }
    if (overflowing) return;
    pending += chunk.slice(start);
    if (pending.length > MAX_LINE_CHARS) {
      pending = '';
      overflowing = true;
    }
  });
  stream.on('end', () => {
    if (pending !== '') emit(pending);
  });
}

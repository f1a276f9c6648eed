/**
 * Runs one git command as a child process that can be killed as a whole.
 *
 * git is a tree of processes (`git clone https://…` runs `git-remote-https`, a push runs `pack-objects`), so
 * killing the `git` pid alone leaves its helpers downloading. The child is spawned `detached` — the leader of
 * its own process group — and an abort sends SIGKILL to the whole group with `process.kill(-pid)`.
 */
import { spawn } from 'node:child_process';
import { abortedError, GitError } from './errors.js';
import { authorizationSecrets, withAuthorizationHeader, withoutSecrets } from './originAuthorization.js';

export interface RunGitOptions {
  /** working directory; git commands that need no repository run anywhere */
  cwd: string;
  signal?: AbortSignal;
  /** written to git's stdin (a commit message, object content) */
  input?: string | Buffer;
  /** exit codes that are answers, not failures (`git diff --quiet` exits 1 for "differs") */
  okExitCodes?: readonly number[];
  /**
   * `GIT_INDEX_FILE`: an index of the caller's own (collecting a coding agent's change), so the repository's
   * index is left alone; every other repository variable stays cleared
   */
  indexFile?: string;
  /**
   * The `Authorization` header's value for the origin (originAuthorization.ts), only for a command that talks to
   * it (clone, fetch, ls-remote, push): passed in the environment, and scrubbed from the result and any error
   */
  authorization?: string | null | undefined;
}

export interface GitResult {
  stdout: string;
  /** the tail of stderr, for commands whose answer is written there */
  stderr: string;
  exitCode: number;
}

/** Who commits: fixed, so commits work on a machine without any git configuration. */
const IDENTITY = {
  GIT_AUTHOR_NAME: 'PRFactory Worker',
  GIT_AUTHOR_EMAIL: 'worker@prfactory.local',
  GIT_COMMITTER_NAME: 'PRFactory Worker',
  GIT_COMMITTER_EMAIL: 'worker@prfactory.local',
};

/**
 * Variables that point git at another repository. A worker started from inside a git hook (or a test runner
 * started by one) inherits them and would otherwise read and write the wrong repository.
 */
const REPOSITORY_VARIABLES = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
];

/**
 * Options put before every command. `ext::` and `fd::` URLs make git run arbitrary commands and repository
 * URLs come from start messages, so they are refused whatever the machine's configuration says. Hooks are
 * off: a machine-wide `core.hooksPath` must not decide whether a worker can push. Automatic gc is off: it
 * detaches into its own session (out of reach of an abort) and holds locks the next step trips on, and a
 * workspace lives only as long as its execution. The rest keeps content and output byte-exact.
 */
const GLOBAL_OPTIONS = [
  '-c',
  'protocol.ext.allow=never',
  '-c',
  'protocol.fd.allow=never',
  '-c',
  'core.autocrlf=false',
  '-c',
  'core.quotepath=false',
  '-c',
  'commit.gpgsign=false',
  '-c',
  'advice.detachedHead=false',
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'gc.auto=0',
  '-c',
  'maintenance.auto=false',
];

/** Kept of stderr for error messages: the end holds git's `fatal:` line. */
const STDERR_TAIL_BYTES = 4096;

function gitEnvironment(options: RunGitOptions): NodeJS.ProcessEnv {
  const { indexFile, authorization } = options;
  let env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of REPOSITORY_VARIABLES) delete env[name];
  if (authorization) env = withAuthorizationHeader(env, authorization);
  return {
    ...env,
    ...(indexFile !== undefined && { GIT_INDEX_FILE: indexFile }),
    ...IDENTITY,
    // A missing credential must fail the step, never wait for a person at a terminal nobody watches.
    GIT_TERMINAL_PROMPT: '0',
    GCM_INTERACTIVE: 'never',
    GIT_SSH_COMMAND: env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    // English messages: the adapter recognises a few of them (e.g. a refused lease).
    LC_ALL: 'C',
  };
}

/**
 * What git says when the origin wants credentials it did not get (no header, a wrong or expired token): curl's
 * 401/403, and the prompt it would have shown for a user name had prompts not been off.
 */
const AUTH_REFUSED =
  /Authentication failed|could not read (Username|Password)|terminal prompts disabled|The requested URL returned error: 40[13]\b|Permission denied \(publickey/;

/** The subcommand (`clone`, `push`, …) of an argument list, for messages. */
function subcommand(args: readonly string[]): string {
  return args.find((arg) => !arg.startsWith('-')) ?? 'git';
}

/**
 * Runs `git <args>` and resolves with its stdout; rejects with a {@link GitError}: `ABORTED` when the signal
 * fires (the process group is killed first), `SPAWN_FAILED`, or `GIT_FAILED` with the stderr tail.
 */
export function runGit(args: readonly string[], options: RunGitOptions): Promise<GitResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortedError(signal, args));
  const secrets = options.authorization ? authorizationSecrets(options.authorization) : [];
  // git should never print the header; scrubbed anyway, so no later change of git's output can leak it.
  const scrub = (text: string) => withoutSecrets(text, secrets);
  return new Promise<GitResult>((resolve, reject) => {
    const child = spawn('git', [...GLOBAL_OPTIONS, ...args], {
      cwd: options.cwd,
      env: gitEnvironment(options),
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    let aborted = false;
    let spawnError: Error | undefined;

    const killGroup = () => {
      aborted = true;
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is gone already.
      }
    };
    signal?.addEventListener('abort', killGroup, { once: true });

    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    if (options.input !== undefined && child.stdin) {
      // git may exit before reading all input (a failed command): EPIPE is reported by the exit code instead.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', killGroup);
      if (aborted && signal) return reject(abortedError(signal, args));
      if (spawnError) {
        return reject(
          new GitError('SPAWN_FAILED', `git could not be started in ${options.cwd}: ${spawnError.message}`, {
            args,
            cause: spawnError,
            secrets,
          }),
        );
      }
      const exitCode = code ?? -1;
      if (exitCode === 0 || options.okExitCodes?.includes(exitCode)) {
        return resolve({
          stdout: scrub(Buffer.concat(stdout).toString('utf8')),
          stderr: scrub(stderr),
          exitCode,
        });
      }
      const lastLine = stderr.trim().split('\n').at(-1) ?? '';
      const refused = AUTH_REFUSED.test(stderr);
      const message = refused
        ? `git ${subcommand(args)}: the origin refused access (credentials missing, wrong, expired or without permission): ${lastLine}`
        : `git ${subcommand(args)} exited with ${exitCode}: ${lastLine}`;
      reject(
        new GitError(refused ? 'AUTH_FAILED' : 'GIT_FAILED', message, { args, stderr, exitCode, secrets }),
      );
    });
  });
}

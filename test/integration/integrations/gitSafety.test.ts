/**
 * The git adapter's guarantees under trouble: aborts kill git's whole process group, force-with-lease never
 * overwrites a branch that moved, paths cannot leave the workspace, credentials never reach an error.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GitError } from '../../../src/integrations/git/errors.js';
import { createGitCli, type GitCli, type GitCliOptions } from '../../../src/integrations/git/gitCli.js';
import type { Repository } from '../../../src/machines/domain.js';
import { createSampleOrigin, gitOwner, type SampleOrigin } from '../../support/git.js';

const signal = () => new AbortController().signal;

/** Pids of live processes whose command line contains `needle`. */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** A TCP server that accepts connections and never answers: git waits on it forever. */
async function startSilentServer(): Promise<{
  port: number;
  connections: () => number;
  close: () => Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('git CLI adapter under trouble', () => {
  let origin: SampleOrigin;
  let repository: Repository;
  let dirs: string[];
  const worker = (options: Omit<GitCliOptions, 'workspacesDir'> = {}): GitCli => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prf-ws-'));
    dirs.push(dir);
    return createGitCli({ workspacesDir: dir, ...options });
  };

  beforeEach(() => {
    origin = createSampleOrigin();
    repository = { url: origin.url, defaultBranch: 'main' };
    dirs = [];
  });
  afterEach(() => {
    origin.cleanup();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('rejects at once when the signal was aborted before the step started', async () => {
    const controller = new AbortController();
    controller.abort(new Error('timed out'));
    const gitCli = worker();
    const started = Date.now();
    const error = (await gitCli
      .prepare(gitOwner(randomUUID()), repository, controller.signal)
      .catch((e) => e)) as GitError;
    expect(error).toMatchObject({ name: 'GitError', code: 'ABORTED' });
    expect(error.cause).toBe(controller.signal.reason);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('kills the whole process group of a hanging clone on abort', async () => {
    const server = await startSilentServer();
    const url = `http://127.0.0.1:${server.port}/hanging.git`;
    const gitCli = worker();
    const executionId = randomUUID();
    const controller = new AbortController();
    try {
      const pending = gitCli.prepare(
        gitOwner(executionId),
        { url, defaultBranch: 'main' },
        controller.signal,
      );
      // git (and its git-remote-http helper) is now waiting for an answer that never comes.
      await waitUntil(() => server.connections() > 0, 10_000);
      expect(processesMentioning(url).length).toBeGreaterThan(0);

      const abortedAt = Date.now();
      controller.abort(new Error('agent timeout'));
      await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
      expect(Date.now() - abortedAt).toBeLessThan(2000);
      await waitUntil(() => processesMentioning(url).length === 0, 2000);
      // Neither a half-written workspace nor a leftover partial clone stays behind.
      expect(existsSync(gitCli.workspaceDir(executionId))).toBe(false);
      expect(readdirSync(path.join(path.dirname(gitCli.workspaceDir(executionId)), '.partial'))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('refuses to push when the origin branch moved unexpectedly (force-with-lease)', async () => {
    const executionId = randomUUID();
    let theirs = '';
    const gitCli = worker({
      faultPoints: {
        // Someone pushes to the branch between our read of the origin and our push.
        beforePush: async () => {
          theirs = origin.pushAsSomeoneElse('feature/raced', { 'theirs.txt': 'theirs\n' }, 'Their commit');
        },
      },
    });
    const { baseCommit } = await gitCli.prepare(gitOwner(executionId), repository, signal());
    const change = { baseCommit, branch: 'feature/raced', message: 'Ours', files: { 'ours.txt': 'ours\n' } };

    await expect(
      gitCli.commitAndPush(gitOwner(executionId), repository, change, signal()),
    ).rejects.toMatchObject({
      name: 'GitError',
      code: 'PUSH_REJECTED',
    });
    expect(origin.tip('feature/raced')).toBe(theirs);
    expect(origin.show('feature/raced', 'theirs.txt')).toBe('theirs');
  });

  it('refuses to overwrite an existing branch that moved since it was read', async () => {
    const executionId = randomUUID();
    const mine = await worker().prepare(gitOwner(executionId), repository, signal());
    const first = await worker().commitAndPush(
      gitOwner(executionId),
      repository,
      { baseCommit: mine.baseCommit, branch: 'feature/r', message: 'One', files: { 'r.txt': '1\n' } },
      signal(),
    );
    let theirs = '';
    const racing = worker({
      faultPoints: {
        beforePush: async ({ expectedTip }) => {
          expect(expectedTip).toBe(first.commit);
          theirs = origin.pushAsSomeoneElse('feature/r', { 'r.txt': 'theirs\n' }, 'Theirs');
        },
      },
    });
    await expect(
      racing.commitAndPush(
        gitOwner(executionId),
        repository,
        { baseCommit: mine.baseCommit, branch: 'feature/r', message: 'Two', files: { 'r.txt': '2\n' } },
        signal(),
      ),
    ).rejects.toMatchObject({ code: 'PUSH_REJECTED' });
    expect(origin.tip('feature/r')).toBe(theirs);
  });

  it('takes the winner of a race as its own result when it holds the same change', async () => {
    const executionId = randomUUID();
    const twin = worker();
    let winner = '';
    const gitCli = worker({
      faultPoints: {
        // The same step on another worker (lost lease, still running) pushes the very same change first.
        beforePush: async () => {
          winner = (await twin.commitAndPush(gitOwner(executionId), repository, change, signal())).commit;
        },
      },
    });
    const { baseCommit } = await gitCli.prepare(gitOwner(executionId), repository, signal());
    const change = { baseCommit, branch: 'feature/twin', message: 'Same', files: { 'same.txt': 'same\n' } };
    const result = await gitCli.commitAndPush(gitOwner(executionId), repository, change, signal());
    expect(result.commit).toBe(winner);
    expect(origin.countCommits(baseCommit, 'feature/twin')).toBe(1);
  });

  it('refuses paths that leave the workspace or touch .git', async () => {
    const gitCli = worker();
    const executionId = randomUUID();
    const { baseCommit, workspace } = await gitCli.prepare(gitOwner(executionId), repository, signal());
    for (const unsafe of ['../outside.txt', '/etc/passwd', '.git/config', 'src/../../x', 'a/.GIT/hooks/x']) {
      await expect(gitCli.readFile(workspace, unsafe)).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
      await expect(
        gitCli.commitAndPush(
          gitOwner(executionId),
          repository,
          { baseCommit, branch: 'feature/unsafe', message: 'x', files: { [unsafe]: 'x' } },
          signal(),
        ),
      ).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    }
    symlinkSync('/etc', path.join(workspace.dir, 'escape'));
    await expect(gitCli.readFile(workspace, 'escape/hostname')).rejects.toMatchObject({
      code: 'UNSAFE_PATH',
    });
    await expect(gitCli.readFile(workspace, 'missing.txt')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(origin.tip('feature/unsafe')).toBeNull();
  });

  it('refuses to push to the default branch or a malformed branch', async () => {
    const gitCli = worker();
    const executionId = randomUUID();
    const { baseCommit } = await gitCli.prepare(gitOwner(executionId), repository, signal());
    for (const branch of ['main', 'bad..name', '-f', 'with space']) {
      await expect(
        gitCli.commitAndPush(
          gitOwner(executionId),
          repository,
          { baseCommit, branch, message: 'x', files: {} },
          signal(),
        ),
      ).rejects.toMatchObject({ code: 'INVALID_BRANCH' });
    }
    expect(origin.tip('main')).toBe(baseCommit);
  });

  it('refuses URLs that run commands and execution ids that leave the workspaces folder', async () => {
    const gitCli = worker();
    for (const url of [
      'ext::sh -c touch% /tmp/pwned',
      'fd::17',
      '--upload-pack=touch /tmp/pwned',
      'foo://x/y',
    ]) {
      await expect(
        gitCli.prepare(gitOwner(randomUUID()), { url, defaultBranch: 'main' }, signal()),
      ).rejects.toMatchObject({
        code: 'INVALID_URL',
      });
    }
    await expect(gitCli.prepare(gitOwner('../escape'), repository, signal())).rejects.toMatchObject({
      code: 'INVALID_EXECUTION_ID',
    });
  });

  it('never puts credentials of the URL in an error', async () => {
    // A closed port: the clone fails at once, with the URL in git's arguments and message.
    const server = await startSilentServer();
    const port = server.port;
    await server.close();
    const url = `http://robot:s3cr3t-token@127.0.0.1:${port}/private.git`;
    const error = (await worker()
      .prepare(gitOwner(randomUUID()), { url, defaultBranch: 'main' }, signal())
      .catch((e) => e)) as GitError;
    expect(error).toMatchObject({ name: 'GitError', code: 'GIT_FAILED' });
    expect(error.args.join(' ')).toContain('http://[redacted]@127.0.0.1');
    const visible = JSON.stringify({
      message: error.message,
      args: error.args,
      stderr: error.stderr,
      s: String(error),
    });
    expect(visible).not.toContain('s3cr3t');
    expect(visible).not.toContain('robot');
  });
});

/**
 * The git side of a coding agent: its own copy of the repository, the change collected from that copy without
 * trusting its `.git`, pushed with the idempotency trailers, and found again by a re-run.
 */
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Workspace } from '../../../src/actors/ports.js';
import { createGitCli, type GitCli, type GitCliOptions } from '../../../src/integrations/git/gitCli.js';
import type { Repository } from '../../../src/machines/domain.js';
import { createSampleOrigin, git, gitOwner, type SampleOrigin } from '../../support/git.js';

const signal = () => new AbortController().signal;
const BRANCH = 'prfactory/proj-1-agent';

describe('coding agent workspaces', () => {
  let origin: SampleOrigin;
  let repository: Repository;
  let dirs: string[];
  let gitCli: GitCli;
  let executionId: string;
  const worker = (options: Omit<GitCliOptions, 'workspacesDir'> = {}): GitCli => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prf-ws-'));
    dirs.push(dir);
    return createGitCli({ workspacesDir: dir, ...options });
  };
  const write = (workspace: Workspace, file: string, content: string) => {
    mkdirSync(path.dirname(path.join(workspace.dir, file)), { recursive: true });
    writeFileSync(path.join(workspace.dir, file), content);
  };
  const trailers = (key = `${executionId}:implement:0`) => ({
    'PRFactory-Execution': executionId,
    'PRFactory-Idempotency-Key': key,
  });
  const commitWorkspace = (workspace: Workspace, baseCommit: string, cli = gitCli) =>
    cli.commitWorkspace(
      gitOwner(executionId),
      repository,
      workspace,
      { baseCommit, branch: BRANCH, message: 'PROJ-1: Add a flag\n\nAdds the flag.', trailers: trailers() },
      signal(),
    );

  beforeEach(() => {
    origin = createSampleOrigin({
      files: {
        'README.md': '# Sample\n',
        'src/index.ts': 'export const answer = 42;\n',
        'src/old.ts': 'export const old = 1;\n',
        'run.sh': '#!/bin/sh\necho hi\n',
      },
    });
    repository = { url: origin.url, defaultBranch: 'main' };
    dirs = [];
    gitCli = worker();
    executionId = randomUUID();
  });
  afterEach(() => {
    origin.cleanup();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function agentWorkspace(cli = gitCli) {
    const { baseCommit } = await cli.prepare(gitOwner(executionId), repository, signal());
    const workspace = await cli.agentWorkspace(gitOwner(executionId), repository, { baseCommit }, signal());
    return { baseCommit, workspace };
  }

  it('gives the agent its own copy at the base, on a local branch, with no remote', async () => {
    const { baseCommit, workspace } = await agentWorkspace();
    expect(workspace.dir).toBe(gitCli.agentWorkspaceDir(executionId));
    expect(workspace.dir).not.toBe(gitCli.workspaceDir(executionId));
    expect(git(workspace.dir, 'rev-parse', 'HEAD')).toBe(baseCommit);
    expect(git(workspace.dir, 'symbolic-ref', '--short', 'HEAD')).toBe('prfactory-agent');
    expect(git(workspace.dir, 'remote')).toBe('');
    expect(git(workspace.dir, 'status', '--porcelain')).toBe('');
  });

  it('pushes added, modified and deleted files as one commit with the trailers', async () => {
    const { baseCommit, workspace } = await agentWorkspace();
    write(workspace, 'src/flag.ts', 'export const flag = true;\n');
    write(workspace, 'src/index.ts', 'export const answer = 43;\n');
    unlinkSync(path.join(workspace.dir, 'src/old.ts'));
    write(workspace, 'run.sh', '#!/bin/sh\necho hello\n');
    chmodSync(path.join(workspace.dir, 'run.sh'), 0o755);
    symlinkSync('index.ts', path.join(workspace.dir, 'src/alias.ts'));
    // Ignored files stay out, as they would for `git add --all`.
    write(workspace, '.gitignore', 'dist/\n');
    write(workspace, 'dist/bundle.js', 'built\n');

    const result = await commitWorkspace(workspace, baseCommit);
    expect(result.change).toEqual({
      added: ['.gitignore', 'src/alias.ts', 'src/flag.ts'],
      modified: ['run.sh', 'src/index.ts'],
      deleted: ['src/old.ts'],
    });
    expect(origin.tip(BRANCH)).toBe(result.commit);
    expect(origin.countCommits(baseCommit, BRANCH)).toBe(1);
    expect(origin.show(BRANCH, 'src/flag.ts')).toBe('export const flag = true;');
    expect(origin.show(BRANCH, 'src/index.ts')).toBe('export const answer = 43;');
    expect(() => origin.show(BRANCH, 'src/old.ts')).toThrow();
    expect(() => origin.show(BRANCH, 'dist/bundle.js')).toThrow();
    // the executable bit the agent set and the link are kept
    expect(git(origin.url, 'ls-tree', `refs/heads/${BRANCH}`, 'run.sh')).toMatch(/^100755 /);
    expect(git(origin.url, 'ls-tree', `refs/heads/${BRANCH}`, 'src/alias.ts')).toMatch(/^120000 /);
    expect(git(origin.url, 'log', '-1', '--format=%(trailers)', `refs/heads/${BRANCH}`)).toBe(
      `PRFactory-Execution: ${executionId}\nPRFactory-Idempotency-Key: ${executionId}:implement:0`,
    );
    expect(git(origin.url, 'log', '-1', '--format=%B', `refs/heads/${BRANCH}`)).toBe(
      `PROJ-1: Add a flag\n\nAdds the flag.\n\nPRFactory-Execution: ${executionId}\nPRFactory-Idempotency-Key: ${executionId}:implement:0`,
    );
    // the copy is gone once the change is on the origin
    expect(existsSync(workspace.dir)).toBe(false);
  });

  it('takes the files, not the commits: whatever the agent committed itself is in the diff against the base', async () => {
    const { baseCommit, workspace } = await agentWorkspace();
    write(workspace, 'src/a.ts', 'a\n');
    git(workspace.dir, 'add', '--all');
    git(workspace.dir, 'commit', '--quiet', '-m', 'the agent commits');
    write(workspace, 'src/b.ts', 'b\n');
    const result = await commitWorkspace(workspace, baseCommit);
    expect(result.change.added).toEqual(['src/a.ts', 'src/b.ts']);
    expect(origin.countCommits(baseCommit, BRANCH)).toBe(1);
    expect(git(origin.url, 'log', '-1', '--format=%s', `refs/heads/${BRANCH}`)).toBe('PROJ-1: Add a flag');
  });

  it('takes a file replaced by a folder as a deletion and new files', async () => {
    const { baseCommit, workspace } = await agentWorkspace();
    unlinkSync(path.join(workspace.dir, 'src/old.ts'));
    write(workspace, 'src/old.ts/index.ts', 'new\n');
    const result = await commitWorkspace(workspace, baseCommit);
    expect(result.change).toEqual({ added: ['src/old.ts/index.ts'], modified: [], deleted: ['src/old.ts'] });
    expect(origin.show(BRANCH, 'src/old.ts/index.ts')).toBe('new');
  });

  it('never runs what the agent put into its .git, and never pushes it', async () => {
    const { baseCommit, workspace } = await agentWorkspace();
    const marker = path.join(dirs[0] ?? tmpdir(), `ran-${randomUUID()}`);
    const hook = `#!/bin/sh\ntouch ${marker}\n`;
    for (const name of [
      'pre-commit',
      'post-checkout',
      'reference-transaction',
      'pre-push',
      'post-index-change',
    ]) {
      writeFileSync(path.join(workspace.dir, '.git/hooks', name), hook);
      chmodSync(path.join(workspace.dir, '.git/hooks', name), 0o755);
    }
    writeFileSync(path.join(workspace.dir, 'fsmonitor.sh'), hook);
    chmodSync(path.join(workspace.dir, 'fsmonitor.sh'), 0o755);
    git(workspace.dir, 'config', 'core.fsmonitor', path.join(workspace.dir, 'fsmonitor.sh'));
    git(workspace.dir, 'remote', 'add', 'origin', 'ext::sh -c touch% /tmp/pwned');
    write(workspace, 'src/flag.ts', 'flag\n');

    const result = await commitWorkspace(workspace, baseCommit);
    expect(existsSync(marker)).toBe(false);
    expect(result.change.added).toEqual(['fsmonitor.sh', 'src/flag.ts']);
    const tree = git(origin.url, 'ls-tree', '-r', '--name-only', `refs/heads/${BRANCH}`);
    expect(tree).not.toMatch(/\.git\//);
    expect(tree).not.toMatch(/hooks/);
  });

  it.each([
    [
      'a nested .git',
      (w: Workspace) => write(w, 'vendor/lib/.git/hooks/pre-commit', 'x'),
      /vendor\/lib\/\.git/,
    ],
    ['a nested repository', (w: Workspace) => git(w.dir, 'init', '--quiet', 'sub'), /sub\/\.git/],
    [
      'an absolute link',
      (w: Workspace) => symlinkSync('/etc/passwd', path.join(w.dir, 'pw')),
      /"pw".*absolute/,
    ],
    [
      'a link leaving the tree',
      (w: Workspace) => symlinkSync('../../outside', path.join(w.dir, 'src/out')),
      /"src\/out".*leaving the tree/,
    ],
    [
      'a link into .git',
      (w: Workspace) => symlinkSync('.git/config', path.join(w.dir, 'cfg')),
      /"cfg".*\.git/,
    ],
    [
      'a chain of links that climbs out',
      (w: Workspace) => {
        mkdirSync(path.join(w.dir, 'x'));
        symlinkSync('..', path.join(w.dir, 'x/up'));
        symlinkSync('x/up/..', path.join(w.dir, 'y'));
      },
      /"y".*outside the tree/,
    ],
    [
      'a file over the limit',
      (w: Workspace) => write(w, 'big.bin', 'x'.repeat(2048)),
      /"big.bin" is 2048 bytes/,
    ],
  ])('refuses %s, naming the path, as a permanent failure', async (_, act, reason) => {
    const cli = worker({ maxAgentFileBytes: 1024 });
    const { baseCommit, workspace } = await agentWorkspace(cli);
    write(workspace, 'src/flag.ts', 'flag\n');
    act(workspace);
    const error = await commitWorkspace(workspace, baseCommit, cli).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PermanentFailure', kind: 'permanent' });
    expect((error as Error).message).toMatch(reason);
    expect(origin.tip(BRANCH)).toBeNull();
  });

  it('lets a .git in an ignored folder be (git skips it like the rest of the folder)', async () => {
    const { baseCommit, workspace } = await agentWorkspace();
    write(workspace, '.gitignore', 'vendor/\n');
    write(workspace, 'vendor/lib/.git/HEAD', 'ref: refs/heads/main\n');
    const result = await commitWorkspace(workspace, baseCommit);
    expect(result.change.added).toEqual(['.gitignore']);
  });

  it('fails permanently when the agent changed nothing', async () => {
    const { baseCommit, workspace } = await agentWorkspace();
    // a file rewritten with the same content is no change
    write(workspace, 'README.md', '# Sample\n');
    await expect(commitWorkspace(workspace, baseCommit)).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringMatching(/changed nothing/),
    });
    expect(origin.tip(BRANCH)).toBeNull();
  });

  it('finds the pushed commit by its key, and a second push with the key returns it', async () => {
    const key = `${executionId}:implement:0`;
    const { baseCommit, workspace } = await agentWorkspace();
    expect(
      await gitCli.findKeyedCommit(gitOwner(executionId), repository, { branch: BRANCH, key }, signal()),
    ).toBeNull();
    write(workspace, 'src/flag.ts', 'flag\n');
    const first = await commitWorkspace(workspace, baseCommit);

    // another worker, with no clone of its own yet
    const other = worker();
    const found = await other.findKeyedCommit(
      gitOwner(executionId),
      repository,
      { branch: BRANCH, key },
      signal(),
    );
    expect(found?.commit).toBe(first.commit);
    expect(found?.message).toContain('Adds the flag.');
    expect(
      await other.findKeyedCommit(
        gitOwner(executionId),
        repository,
        { branch: BRANCH, key: `${key}x` },
        signal(),
      ),
    ).toBeNull();

    const again = await agentWorkspace(other);
    write(again.workspace, 'src/flag.ts', 'another flag\n');
    const second = await commitWorkspace(again.workspace, baseCommit, other);
    expect(second.commit).toBe(first.commit);
    expect(origin.countCommits(baseCommit, BRANCH)).toBe(1);
  });

  it('puts the change on top of the branch when the branch has moved, and keeps what is there', async () => {
    const { baseCommit, workspace } = await agentWorkspace();
    const theirs = origin.pushAsSomeoneElse(BRANCH, { 'theirs.txt': 'theirs\n' }, 'Their commit');
    write(workspace, 'src/flag.ts', 'flag\n');
    const result = await commitWorkspace(workspace, baseCommit);
    expect(git(origin.url, 'rev-parse', `${result.commit}^`)).toBe(theirs);
    expect(origin.show(BRANCH, 'theirs.txt')).toBe('theirs');
    expect(origin.show(BRANCH, 'src/flag.ts')).toBe('flag');
  });

  it('refuses a folder that is not the agent workspace, and the default branch', async () => {
    const { baseCommit, workspace } = await agentWorkspace();
    write(workspace, 'src/flag.ts', 'flag\n');
    await expect(
      gitCli.commitWorkspace(
        gitOwner(executionId),
        repository,
        { dir: gitCli.workspaceDir(executionId) },
        { baseCommit, branch: BRANCH, message: 'x', trailers: trailers() },
        signal(),
      ),
    ).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    await expect(
      gitCli.commitWorkspace(
        gitOwner(executionId),
        repository,
        workspace,
        { baseCommit, branch: 'main', message: 'x', trailers: trailers() },
        signal(),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_BRANCH' });
    await expect(
      gitCli.commitWorkspace(
        gitOwner(executionId),
        repository,
        workspace,
        { baseCommit, branch: BRANCH, message: 'x', trailers: { 'PRFactory-Execution': 'a\nForged: yes' } },
        signal(),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_TRAILER' });
    expect(origin.tip('main')).toBe(baseCommit);
    expect(origin.tip(BRANCH)).toBeNull();
  });
});

/**
 * The git adapter against real git: a bare origin in a temp folder plays the hosted repository, and each
 * "worker" is a GitCli with its own workspaces folder.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitCli, type GitCli } from '../../../src/integrations/git/gitCli.js';
import type { Repository } from '../../../src/machines/domain.js';
import { createSampleOrigin, git, gitOwner, type SampleOrigin } from '../../support/git.js';

const signal = () => new AbortController().signal;

describe('git CLI adapter', () => {
  let origin: SampleOrigin;
  let repository: Repository;
  let workspaces: string[];
  const worker = (): GitCli => {
    const dir = mkdtempSync(path.join(tmpdir(), 'prf-ws-'));
    workspaces.push(dir);
    return createGitCli({ workspacesDir: dir });
  };

  beforeEach(() => {
    origin = createSampleOrigin();
    repository = { url: origin.url, defaultBranch: 'main' };
    workspaces = [];
  });
  afterEach(() => {
    origin.cleanup();
    for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
  });

  it('prepares a workspace at the head of the default branch and reads it', async () => {
    const gitCli = worker();
    const executionId = randomUUID();
    const { baseCommit, workspace } = await gitCli.prepare(gitOwner(executionId), repository, signal());

    expect(baseCommit).toBe(origin.initialCommit);
    expect(workspace.dir).toBe(gitCli.workspaceDir(executionId));
    expect(path.basename(workspace.dir)).toBe(executionId);
    const files = await gitCli.listFiles(workspace);
    expect(files).toEqual([
      { path: 'README.md', bytes: Buffer.byteLength('# Sample\n\nA repository for PRFactory tests.\n') },
      { path: 'src/index.ts', bytes: Buffer.byteLength('export const answer = 42;\n') },
    ]);
    expect(await gitCli.readFile(workspace, 'src/index.ts')).toBe('export const answer = 42;\n');
  });

  it('prepares again after the origin moved: the cached clone is refreshed', async () => {
    const gitCli = worker();
    const executionId = randomUUID();
    await gitCli.prepare(gitOwner(executionId), repository, signal());
    const moved = origin.pushAsSomeoneElse('main', { 'NEW.md': 'new\n' }, 'A later commit');

    const again = await gitCli.prepare(gitOwner(executionId), repository, signal());
    expect(again.baseCommit).toBe(moved);
    expect(await gitCli.readFile(again.workspace, 'NEW.md')).toBe('new\n');
  });

  it('commits and pushes once, however often the step runs', async () => {
    const gitCli = worker();
    const executionId = randomUUID();
    const { baseCommit } = await gitCli.prepare(gitOwner(executionId), repository, signal());
    const change = {
      baseCommit,
      branch: 'prfactory/plan-1',
      message: 'Plan for PROJ-1',
      files: { 'docs/plan.md': '# Plan\n', 'src/index.ts': 'export const answer = 43;\n' },
    };

    const first = await gitCli.commitAndPush(gitOwner(executionId), repository, change, signal());
    const second = await gitCli.commitAndPush(gitOwner(executionId), repository, change, signal());

    expect(second).toEqual(first);
    expect(first.branch).toBe('prfactory/plan-1');
    expect(origin.tip('prfactory/plan-1')).toBe(first.commit);
    expect(origin.countCommits(baseCommit, 'prfactory/plan-1')).toBe(1);
    expect(origin.show('prfactory/plan-1', 'docs/plan.md')).toBe('# Plan');
    expect(git(origin.url, 'log', '-1', '--format=%an <%ae>%n%B', 'prfactory/plan-1')).toBe(
      'PRFactory Worker <worker@prfactory.local>\nPlan for PROJ-1',
    );
    // The default branch is untouched.
    expect(origin.tip('main')).toBe(baseCommit);
  });

  it('is idempotent on a fresh machine too (another worker re-runs the step)', async () => {
    const executionId = randomUUID();
    const { baseCommit } = await worker().prepare(gitOwner(executionId), repository, signal());
    const change = { baseCommit, branch: 'feature/x', message: 'Change', files: { 'a.txt': 'a\n' } };
    const first = await worker().commitAndPush(gitOwner(executionId), repository, change, signal());
    const second = await worker().commitAndPush(gitOwner(executionId), repository, change, signal());
    expect(second.commit).toBe(first.commit);
    expect(origin.countCommits(baseCommit, 'feature/x')).toBe(1);
  });

  it('adds a commit on top of the pushed branch for a new round', async () => {
    const gitCli = worker();
    const executionId = randomUUID();
    const { baseCommit } = await gitCli.prepare(gitOwner(executionId), repository, signal());
    const branch = 'prfactory/plan';
    const round1 = await gitCli.commitAndPush(
      gitOwner(executionId),
      repository,
      { baseCommit, branch, message: 'Plan, round 1', files: { 'plan.md': 'one\n' } },
      signal(),
    );
    const round2 = await gitCli.commitAndPush(
      gitOwner(executionId),
      repository,
      { baseCommit, branch, message: 'Plan, round 2', files: { 'plan.md': 'two\n' } },
      signal(),
    );
    expect(round2.commit).not.toBe(round1.commit);
    expect(git(origin.url, 'rev-parse', `${round2.commit}^`)).toBe(round1.commit);
    expect(origin.countCommits(baseCommit, branch)).toBe(2);
    expect(origin.show(branch, 'plan.md')).toBe('two');
  });

  it('checks out the base commit or an already pushed branch', async () => {
    const gitCli = worker();
    const executionId = randomUUID();
    const { baseCommit } = await gitCli.prepare(gitOwner(executionId), repository, signal());
    // The default branch moves on: a checkout at the recorded base must not follow it.
    origin.pushAsSomeoneElse('main', { 'LATER.md': 'later\n' }, 'Later');

    const atBase = await gitCli.checkout(gitOwner(executionId), repository, { baseCommit }, signal());
    expect((await gitCli.listFiles(atBase)).map((file) => file.path)).toEqual(['README.md', 'src/index.ts']);

    const notPushed = await gitCli.checkout(
      gitOwner(executionId),
      repository,
      { baseCommit, branch: 'never/pushed' },
      signal(),
    );
    expect(git(notPushed.dir, 'rev-parse', 'HEAD')).toBe(baseCommit);

    const pushed = await gitCli.commitAndPush(
      gitOwner(executionId),
      repository,
      { baseCommit, branch: 'feature/y', message: 'Y', files: { 'y.txt': 'y\n' } },
      signal(),
    );
    // Leftovers of a killed step disappear on checkout.
    writeFileSync(path.join(atBase.dir, 'README.md'), 'edited by a step that crashed\n');
    writeFileSync(path.join(atBase.dir, 'untracked.txt'), 'junk\n');
    const atBranch = await gitCli.checkout(
      gitOwner(executionId),
      repository,
      { baseCommit, branch: 'feature/y' },
      signal(),
    );
    expect(git(atBranch.dir, 'rev-parse', 'HEAD')).toBe(pushed.commit);
    expect(await gitCli.readFile(atBranch, 'y.txt')).toBe('y\n');
    expect(await gitCli.readFile(atBranch, 'README.md')).toContain('# Sample');
    expect(existsSync(path.join(atBranch.dir, 'untracked.txt'))).toBe(false);
  });

  it('works when the workspace was deleted between steps', async () => {
    const gitCli = worker();
    const executionId = randomUUID();
    const { baseCommit, workspace } = await gitCli.prepare(gitOwner(executionId), repository, signal());
    const change = { baseCommit, branch: 'feature/z', message: 'Z', files: { 'z.txt': 'z\n' } };
    const first = await gitCli.commitAndPush(gitOwner(executionId), repository, change, signal());

    rmSync(workspace.dir, { recursive: true, force: true });
    const checkedOut = await gitCli.checkout(
      gitOwner(executionId),
      repository,
      { baseCommit, branch: 'feature/z' },
      signal(),
    );
    expect(await gitCli.readFile(checkedOut, 'z.txt')).toBe('z\n');

    rmSync(workspace.dir, { recursive: true, force: true });
    const again = await gitCli.commitAndPush(gitOwner(executionId), repository, change, signal());
    expect(again.commit).toBe(first.commit);
    expect(origin.countCommits(baseCommit, 'feature/z')).toBe(1);
  });

  it('recovers from a broken cache: stale lock files, a half-written clone, another origin', async () => {
    const gitCli = worker();
    const executionId = randomUUID();
    const { baseCommit, workspace } = await gitCli.prepare(gitOwner(executionId), repository, signal());

    // A git process killed by an abort leaves its lock behind.
    writeFileSync(path.join(workspace.dir, '.git', 'index.lock'), '');
    expect((await gitCli.prepare(gitOwner(executionId), repository, signal())).baseCommit).toBe(baseCommit);

    // A clone that is not a repository any more.
    rmSync(path.join(workspace.dir, '.git', 'HEAD'));
    expect((await gitCli.prepare(gitOwner(executionId), repository, signal())).baseCommit).toBe(baseCommit);

    // The same execution id pointed at another repository: the cache is not reused.
    const other = createSampleOrigin({ files: { 'OTHER.md': 'other\n' } });
    try {
      const prepared = await gitCli.prepare(
        gitOwner(executionId),
        { url: other.url, defaultBranch: 'main' },
        signal(),
      );
      expect(prepared.baseCommit).toBe(other.initialCommit);
      expect((await gitCli.listFiles(prepared.workspace)).map((file) => file.path)).toEqual(['OTHER.md']);
    } finally {
      other.cleanup();
    }
  });

  it('accepts file:// URLs and keeps an executable file executable', async () => {
    const scripted = createSampleOrigin({ files: { 'run.sh': '#!/bin/sh\necho one\n' } });
    try {
      const seed = path.join(scripted.root, 'seed');
      git(seed, 'update-index', '--chmod=+x', 'run.sh');
      git(seed, 'commit', '--quiet', '-m', 'Make run.sh executable');
      git(seed, 'push', '--quiet', scripted.url, 'HEAD:refs/heads/main');
      const fileRepository = { url: `file://${scripted.url}`, defaultBranch: 'main' };
      const gitCli = worker();
      const executionId = randomUUID();
      const { baseCommit } = await gitCli.prepare(gitOwner(executionId), fileRepository, signal());
      await gitCli.commitAndPush(
        gitOwner(executionId),
        fileRepository,
        { baseCommit, branch: 'feature/sh', message: 'Two', files: { 'run.sh': '#!/bin/sh\necho two\n' } },
        signal(),
      );
      expect(git(scripted.url, 'ls-tree', 'refs/heads/feature/sh', 'run.sh')).toMatch(/^100755 /);
    } finally {
      scripted.cleanup();
    }
  });

  it('fails clearly when the default branch or the base commit does not exist', async () => {
    const gitCli = worker();
    await expect(
      gitCli.prepare(gitOwner(randomUUID()), { url: origin.url, defaultBranch: 'trunk' }, signal()),
    ).rejects.toMatchObject({ name: 'GitError', code: 'BRANCH_NOT_FOUND' });
    await expect(
      gitCli.checkout(gitOwner(randomUUID()), repository, { baseCommit: 'f'.repeat(40) }, signal()),
    ).rejects.toMatchObject({ code: 'COMMIT_NOT_FOUND' });
  });
});

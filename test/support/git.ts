/**
 * Sample git repositories for tests: a bare origin seeded with a commit on its default branch, and helpers to
 * look at it or move it behind the back of the code under test (as another worker or a person would).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GitOwner } from '../../src/actors/ports.js';

const ENV: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^GIT_(DIR|WORK_TREE|INDEX_FILE)$/.test(name)),
  ),
  GIT_AUTHOR_NAME: 'Test Person',
  GIT_AUTHOR_EMAIL: 'person@example.test',
  GIT_COMMITTER_NAME: 'Test Person',
  GIT_COMMITTER_EMAIL: 'person@example.test',
  GIT_TERMINAL_PROMPT: '0',
};

/** Runs git synchronously and returns its trimmed stdout; throws with stderr on failure. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], {
    cwd,
    env: ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

export interface SampleOrigin {
  /** temp folder holding everything of this sample (origin, scratch clones); removed by `cleanup` */
  root: string;
  /** path of the bare origin repository, usable as a repository URL */
  url: string;
  defaultBranch: string;
  /** the seed commit on the default branch */
  initialCommit: string;
  /** the commit `branch` points to on the origin, or null */
  tip(branch: string): string | null;
  /** commits reachable from `branch` but not from `from` */
  countCommits(from: string, branch: string): number;
  /** content of `file` at `branch` on the origin */
  show(branch: string, file: string): string;
  /** commits `files` on `branch` (created from the default branch when absent) from a scratch clone, and pushes */
  pushAsSomeoneElse(branch: string, files: Record<string, string>, message: string): string;
  cleanup(): void;
}

/** A bare origin under a temp folder with one commit on `defaultBranch` holding `files`. */
export function createSampleOrigin(
  options: { files?: Record<string, string>; defaultBranch?: string } = {},
): SampleOrigin {
  const defaultBranch = options.defaultBranch ?? 'main';
  const files = options.files ?? {
    'README.md': '# Sample\n\nA repository for PRFactory tests.\n',
    'src/index.ts': 'export const answer = 42;\n',
  };
  const root = mkdtempSync(path.join(tmpdir(), 'prf-git-'));
  const url = path.join(root, 'origin.git');
  git(root, 'init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, url);
  const seed = path.join(root, 'seed');
  git(root, 'init', '--quiet', `--initial-branch=${defaultBranch}`, seed);
  writeFiles(seed, files);
  git(seed, 'add', '--all');
  git(seed, 'commit', '--quiet', '-m', 'Initial commit');
  git(seed, 'push', '--quiet', url, `HEAD:refs/heads/${defaultBranch}`);
  const initialCommit = git(seed, 'rev-parse', 'HEAD');
  let scratch = 0;

  const tip = (branch: string) => {
    const out = git(root, 'ls-remote', '--heads', url, `refs/heads/${branch}`);
    return out === '' ? null : (out.split('\t')[0] ?? null);
  };
  return {
    root,
    url,
    defaultBranch,
    initialCommit,
    tip,
    countCommits: (from, branch) => Number(git(url, 'rev-list', '--count', `${from}..refs/heads/${branch}`)),
    show: (branch, file) => git(url, 'show', `refs/heads/${branch}:${file}`),
    pushAsSomeoneElse(branch, changed, message) {
      const clone = path.join(root, `someone-else-${++scratch}`);
      git(root, 'clone', '--quiet', url, clone);
      const start = tip(branch) === null ? defaultBranch : branch;
      git(clone, 'checkout', '--quiet', '-B', branch, `origin/${start}`);
      writeFiles(clone, changed);
      git(clone, 'add', '--all');
      git(clone, 'commit', '--quiet', '--allow-empty', '-m', message);
      git(clone, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
      return git(clone, 'rev-parse', 'HEAD');
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
}

/** Whom a git operation is for in a test: `executionId` of tenant `default` unless another is named. */
export function gitOwner(executionId: string, tenantId = 'default'): GitOwner {
  return { tenantId, executionId };
}

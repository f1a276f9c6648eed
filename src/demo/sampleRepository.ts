/** A small git repository for the demo: a bare origin with one commit on `main`, made with the git CLI. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const files: Record<string, string> = {
  'README.md': '# greeter\n\nA tiny library that greets people. Used by the PRFactory demo.\n',
  'package.json': `${JSON.stringify({ name: 'greeter', version: '1.0.0', type: 'module', main: 'src/greet.js' }, null, 2)}\n`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the sample's own JavaScript source
  'src/greet.js': 'export function greet(name) {\n  return `Hello, ${name}!`;\n}\n',
  'test/greet.test.js':
    "import assert from 'node:assert';\nimport { greet } from '../src/greet.js';\n\nassert.equal(greet('Ana'), 'Hello, Ana!');\n",
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Demo Person',
      GIT_AUTHOR_EMAIL: 'demo@prfactory.local',
      GIT_COMMITTER_NAME: 'Demo Person',
      GIT_COMMITTER_EMAIL: 'demo@prfactory.local',
    },
  }).trim();
}

/** Creates `<dir>/greeter.git` (bare, the origin) seeded from `<dir>/seed`; returns the origin's path. */
export function createSampleRepository(dir: string): string {
  const seed = path.join(dir, 'seed');
  const origin = path.join(dir, 'greeter.git');
  mkdirSync(seed, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(seed, file)), { recursive: true });
    writeFileSync(path.join(seed, file), content);
  }
  git(seed, 'init', '-q');
  git(seed, 'add', '.');
  git(seed, 'commit', '-q', '-m', 'Initial commit');
  git(dir, 'clone', '-q', '--bare', seed, origin);
  return origin;
}

/** `branch commit subject` for every branch of the repository. */
export function describeBranches(origin: string): string[] {
  return git(origin, 'for-each-ref', '--format=%(refname:short) %(objectname:short) %(subject)', 'refs/heads')
    .split('\n')
    .filter(Boolean);
}

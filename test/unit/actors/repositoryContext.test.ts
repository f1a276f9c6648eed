import { describe, expect, it } from 'vitest';
import type { GitPort } from '../../../src/actors/ports.js';
import { GATHER_LIMIT, rankFiles, repositoryContext } from '../../../src/actors/repositoryContext.js';

const ticket = {
  key: 'PROJ-7',
  system: 'local' as const,
  title: 'Dark mode toggle',
  description: 'In settings',
};

describe('repository context', () => {
  it('ranks source files whose path shares words with the ticket, smaller first on a tie', () => {
    const files = [
      { path: 'README.md', bytes: 10 },
      { path: 'src/settings/page.tsx', bytes: 900 },
      { path: 'src/theme/darkMode.ts', bytes: 500 },
      { path: 'src/theme/toggle.ts', bytes: 100 },
      { path: 'node_modules/toggle/index.js', bytes: 10 },
      { path: 'assets/toggle.png', bytes: 10 },
      { path: 'docs/unrelated.md', bytes: 10 },
    ];
    expect(rankFiles(files, ticket)).toEqual([
      'src/theme/darkMode.ts',
      'src/theme/toggle.ts',
      'src/settings/page.tsx',
    ]);
  });

  it('reads the README and the relevant files, and stops reading past the gathering limit', async () => {
    const big = 'x'.repeat(39_000);
    const files = [
      { path: 'README.md', bytes: 20 },
      ...Array.from({ length: 30 }, (_, i) => ({ path: `src/toggle${i}/toggle.ts`, bytes: big.length })),
    ];
    const reads: string[] = [];
    const git: Pick<GitPort, 'listFiles' | 'readFile'> = {
      listFiles: async () => files,
      readFile: async (_w, path) => {
        reads.push(path);
        return path === 'README.md' ? '# App' : big;
      },
    };
    const context = await repositoryContext(
      git as GitPort,
      { dir: '/nowhere' },
      ticket,
      new AbortController().signal,
    );
    expect(context.readme).toBe('# App');
    expect(context.files).toHaveLength(31);
    expect(context.relevant.length).toBe(Math.ceil(GATHER_LIMIT / big.length));
    expect(reads).toHaveLength(context.relevant.length + 1);
  });
});

/** The repository within `Llm.ContextTokens`: tree, README, relevant files, cut from the end, saying what went. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clip } from '../../../../src/actors/common.js';
import type { RepositoryContext } from '../../../../src/actors/ports.js';
import { CHARS_PER_TOKEN, renderRepository } from '../../../../src/integrations/llm/prompts/repository.js';

const small: RepositoryContext = {
  files: [
    { path: 'README.md', bytes: 30 },
    { path: 'src/app.ts', bytes: 24 },
  ],
  readme: '# Sample\n\nA sample app.\n',
  relevant: [{ path: 'src/app.ts', text: 'export const app = 1;\n' }],
};

function big(): RepositoryContext {
  return {
    files: Array.from({ length: 200 }, (_, i) => ({ path: `src/module${i}/file${i}.ts`, bytes: 1000 + i })),
    readme: Array.from({ length: 100 }, (_, i) => `README line ${i} with some words`).join('\n'),
    relevant: Array.from({ length: 10 }, (_, i) => ({
      path: `src/rel${i}.ts`,
      text: `// file ${i}\n${'x'.repeat(2_000)}`,
    })),
  };
}

describe('renderRepository', () => {
  it('renders everything, in order, when it fits', () => {
    expect(renderRepository(small, 1_000)).toBe(
      [
        'Files of the repository (2 tracked files, path and size in bytes):',
        'README.md 30',
        'src/app.ts 24',
        '',
        'README:',
        '# Sample',
        '',
        'A sample app.',
        '',
        'Files relevant to the ticket, most relevant first:',
        '<file path="src/app.ts">',
        'export const app = 1;',
        '',
        '</file>',
      ].join('\n'),
    );
  });

  it('cuts the relevant files whole, from the end, and names them', () => {
    const repo = big();
    const text = renderRepository(repo, 5_000);
    expect(text.length).toBeLessThanOrEqual(5_000 * CHARS_PER_TOKEN);
    expect(text).toContain('README line 99');
    const shown = repo.relevant.filter((f) => text.includes(`<file path="${f.path}">`)).map((f) => f.path);
    expect(shown).toEqual(repo.relevant.slice(0, shown.length).map((f) => f.path));
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(10);
    for (const path of shown) expect(text).toContain(repo.relevant.find((f) => f.path === path)?.text);
    expect(text.split('\n').at(-1)).toMatch(
      new RegExp(
        `^\\[Cut to fit Llm\\.ContextTokens = 5000 tokens \\(about 20000 characters, estimated as characters ÷ 4\\): ${10 - shown.length} relevant files \\(src/rel${shown.length}\\.ts, .*\\)\\.\\]$`,
      ),
    );
  });

  it('cuts the README at a line and the tree by lines when the budget is smaller', () => {
    const readmeCut = renderRepository(big(), 1_800);
    expect(readmeCut).toContain('src/module199/file199.ts 1199');
    expect(readmeCut).toContain('\n…(README cut here)');
    expect(readmeCut).not.toContain('<file ');
    expect(readmeCut).toMatch(
      /the README after \d+ of its \d+ characters; 10 relevant files \(src\/rel0\.ts, src\/rel1\.ts, src\/rel2\.ts, src\/rel3\.ts, src\/rel4\.ts and 5 more\)\.\]$/,
    );

    const treeCut = renderRepository(big(), 500);
    expect(treeCut.length).toBeLessThanOrEqual(2_000);
    expect(treeCut).toMatch(
      /^Files of the repository \(200 tracked files, path and size in bytes\):\nsrc\/module0\/file0\.ts 1000\n/,
    );
    expect(treeCut).not.toContain('README:');
    expect(treeCut).toMatch(/: \d+ of the 200 listed files; the README; 10 relevant files \(.*\)\.\]$/);
  });

  it('marks a file the agent clipped as truncated', () => {
    const clipped = { ...small, relevant: [{ path: 'src/huge.ts', text: clip('y'.repeat(50), 10) }] };
    expect(renderRepository(clipped, 1_000)).toContain(
      '<file path="src/huge.ts" truncated="true">\nyyyyyyyyyy\n\n…(cut at 10 characters)\n</file>',
    );
  });

  it('never exceeds the budget when the budget leaves room for the note', () => {
    const entry = fc.record({ path: fc.stringMatching(/^[a-z/]{1,40}$/), bytes: fc.nat(100_000) });
    const repo = fc.record({
      files: fc.array(entry, { maxLength: 300 }),
      readme: fc.option(fc.string({ maxLength: 5_000 }), { nil: undefined }),
      relevant: fc.array(
        fc.record({ path: fc.stringMatching(/^[a-z/]{1,40}$/), text: fc.string({ maxLength: 3_000 }) }),
        {
          maxLength: 20,
        },
      ),
    });
    fc.assert(
      fc.property(repo, fc.integer({ min: 150, max: 10_000 }), (r, tokens) => {
        const { readme, ...rest } = r;
        const text = renderRepository(readme === undefined ? rest : { ...rest, readme }, tokens);
        expect(text.length).toBeLessThanOrEqual(tokens * CHARS_PER_TOKEN);
      }),
      { numRuns: 200 },
    );
  });
});

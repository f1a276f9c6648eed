/** The process runner's bounded stdout: lines as they come, an overlong line skipped whole. */
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS, runAgentProcess } from '../../../src/integrations/codingAgent/runProcess.js';

describe('runAgentProcess', () => {
  it('hands over stdout line by line, skips an overlong line, and keeps the stderr tail', async () => {
    const lines: string[] = [];
    const code = `
      process.stdout.write('one\\r\\ntwo\\n' + 'x'.repeat(${MAX_LINE_CHARS + 10}) + '\\nthree\\nfour');
      process.stderr.write('e'.repeat(100000) + '\\nthe end');
      process.stdin.pipe(process.stdout);`;
    const result = await runAgentProcess({
      argv: [process.execPath, '-e', code],
      cwd: tmpdir(),
      env: {},
      input: '\nfrom stdin\n',
      timeoutMs: 30_000,
      signal: new AbortController().signal,
      onLine: (line) => lines.push(line),
    });
    expect(result).toMatchObject({ outcome: 'exited', exitCode: 0, exitSignal: null });
    // compared as lengths first: a failure must not print a megabyte
    expect(lines.map((line) => line.length)).toEqual([3, 3, 5, 4, 10]);
    expect(lines).toEqual(['one', 'two', 'three', 'four', 'from stdin']);
    expect(result.stderrTail.endsWith('\nthe end')).toBe(true);
    expect(result.stderrTail.length).toBeLessThan(20_000);
  });
});

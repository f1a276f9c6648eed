/**
 * `run` is the default command, so commander would hand any unknown first word to it ("too many arguments for
 * 'run'"). The program must name the unknown command instead, suggest a close one, and exit 2, while `run`
 * still starts when no command is given.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProgram } from '../../../src/cli/program.js';
import { createWorkerProgram } from '../../../src/cli/workerProgram.js';

// an empty folder, so no appsettings.json of the checkout is read
const configDir = mkdtempSync(path.join(tmpdir(), 'prf-unknown-command-'));
afterAll(() => rmSync(configDir, { recursive: true, force: true }));

async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    cwd: configDir,
  };
  const code = await runProgram(createWorkerProgram(io, { version: '0.0.0-test' }), args, io);
  return { code, stdout, stderr };
}

describe('an unknown command', () => {
  it('is named, with no suggestion when no command is close, and exits 2', async () => {
    const result = await cli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("error: unknown command 'frobnicate'");
    expect(result.stderr).not.toContain('Did you mean');
    expect(result.stderr).not.toContain("'run'");
  });

  it('suggests the nearest known command', async () => {
    const diagram = await cli(['diagrm']);
    expect(diagram.code).toBe(2);
    expect(diagram.stderr).toContain("error: unknown command 'diagrm'");
    expect(diagram.stderr).toContain('(Did you mean diagram?)');

    const status = await cli(['stauts', '0b7e3c1a-2f4d-4a6b-9c8d-1e2f3a4b5c6d', '--json']);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain("error: unknown command 'stauts'");
    expect(status.stderr).toContain('(Did you mean status?)');
  });

  it('after `--` is still a command name', async () => {
    const result = await cli(['--', 'frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: unknown command 'frobnicate'");
  });
});

describe('the default command', () => {
  // A bad configuration value makes `run` fail at loadConfig, before anything starts: proof it was dispatched.
  const badConfig = { AgentHost__BatchSize: 'lots' };

  it('is `run` when no command is given', async () => {
    const result = await cli(['--config-dir', configDir], badConfig);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('AgentHost.BatchSize');
    expect(result.stderr).not.toContain('unknown command');
  });

  it('is `run` with no arguments at all', async () => {
    const result = await cli([], badConfig);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('AgentHost.BatchSize');
  });

  it('named explicitly still refuses an extra argument as its own', async () => {
    const result = await cli(['run', 'frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("too many arguments for 'run'");
  });

  it('leaves the known commands and help alone', async () => {
    const help = await cli(['help', 'diagram']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: prfactory-worker diagram');
    const version = await cli(['--version']);
    expect(version).toEqual({ code: 0, stdout: '0.0.0-test\n', stderr: '' });
  });
});

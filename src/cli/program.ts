/**
 * The commander program every command is mounted on, and the function that runs it and maps whatever it
 * throws to an exit code. Commands added with `program.command(…)` inherit the output routing and the
 * exit override, so they never call `process.exit` themselves.
 */
import { Command } from 'commander';
import { errorMessageFor, exitCodeFor } from './errors.js';
import type { CliIo } from './io.js';

export interface ProgramOptions {
  /** printed by `--version` */
  version?: string;
}

/**
 * An empty program named `prfactory-worker`, writing to `io` and throwing instead of exiting. Add commands
 * with `program.command(…)` (not `addCommand`, which would not inherit these settings).
 */
export function createProgram(io: CliIo, options: ProgramOptions = {}): Command {
  const program = new Command('prfactory-worker')
    .description('Hosts PRFactory’s agent graphs durably; its client commands talk to a running worker.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(text),
    })
    .showHelpAfterError('(add --help for usage)');
  if (options.version) program.version(options.version, '-V, --version', 'print the version');
  return program;
}

/**
 * Parses `args` (the user's arguments, without node and the script: `process.argv.slice(2)`), runs the
 * command, and returns its exit code; errors are printed on `io.stderr`, never thrown.
 */
export async function runProgram(program: Command, args: readonly string[], io: CliIo): Promise<number> {
  try {
    await program.parseAsync([...args], { from: 'user' });
    return 0;
  } catch (error) {
    const message = errorMessageFor(error);
    if (message !== undefined) io.stderr.write(`${message}\n`);
    return exitCodeFor(error);
  }
}

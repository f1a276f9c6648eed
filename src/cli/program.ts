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
    .showHelpAfterError('(add --help for usage)')
    .hook('preSubcommand', refuseUnknownCommand);
  if (options.version) program.version(options.version, '-V, --version', 'print the version');
  return program;
}

/** commander's own test for an argument that is an option rather than an operand */
function isOptionLike(arg: string): boolean {
  return arg.length > 1 && arg.startsWith('-');
}

/**
 * With a default command (`run`), commander hands a first word that names no command to the default command,
 * which then answers "too many arguments for 'run'". Before the default command parses, a first operand that is
 * not the command being dispatched (so was not typed as its name or alias) is refused as an unknown command.
 * Options before it (`--config-dir x frobnicate`) are the default command's, so that case stays its own error.
 */
function refuseUnknownCommand(parent: Command, subcommand: Command): void {
  const [first] = parent.args;
  if (first === undefined || isOptionLike(first)) return;
  if (first === subcommand.name() || subcommand.aliases().includes(first)) return;
  // commander's unknown-command error, with its "(Did you mean …?)" suggestion over the visible commands and
  // aliases; it is not in commander's typings, hence the narrowing and the plain fallback.
  const withSuggestion = parent as unknown as { unknownCommand?: () => never };
  if (typeof withSuggestion.unknownCommand === 'function') withSuggestion.unknownCommand();
  parent.error(`error: unknown command '${first}'`, { code: 'commander.unknownCommand' });
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

/** Where a command writes and what it reads of its surroundings: injected, so commands are testable in-process. */

export interface TextSink {
  write(text: string): unknown;
}

export interface CliIo {
  /** results only: `id=$(prfactory-worker submit …)` must capture the id and nothing else */
  stdout: TextSink;
  /** diagnostics, warnings, errors */
  stderr: TextSink;
  /** the environment the commands read (`PRFACTORY_URL`, `PRFACTORY_TOKEN`, `USER`…) */
  env: Record<string, string | undefined>;
  /** relative repository paths are resolved against this; default: process.cwd() */
  cwd?: string;
}

/** The real process's streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

#!/usr/bin/env node
/**
 * The `prfactory-worker` command. `run` (the default) hosts the graphs; `migrate` prepares the database;
 * `demo` runs one ticket end to end on embedded defaults; `diagram` draws the graphs; the client commands (`submit`, `resume`, `cancel`,
 * `retry`, `status`, `list`) talk to a running worker's HTTP API. Exit codes: 0 success, 1 failure at run
 * time, 2 bad usage or configuration (stderr names the key or argument).
 */
import { createRequire } from 'node:module';
import { processIo } from './cli/io.js';
import { runProgram } from './cli/program.js';
import { createWorkerProgram } from './cli/workerProgram.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const io = processIo();
const program = createWorkerProgram(io, { version });
process.exitCode = await runProgram(program, process.argv.slice(2), io);

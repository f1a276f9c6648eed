import { createProgram, processIo, registerClientCommands, runProgram } from './src/cli/index.ts';
const io = processIo();
const program = createProgram(io, { version: '0.1.0' });
registerClientCommands(program, io);
process.exitCode = await runProgram(program, process.argv.slice(2), io);

/**
 * `dist/cli.js`, built from the sources as they are now, for tests that run the command line as a user does.
 * Starting the built file takes about a second where `node --import tsx src/cli.ts` takes about three, and a
 * test runs many commands.
 *
 * Built here, by the test that needs it, rather than by a step of `npm test`: a test file run alone
 * (`npx vitest run <file>`, or again in watch mode after an edit) then never runs a dist/ older than the sources.
 * dist/ is rebuilt unless a stamp says it was built by this helper from exactly the current inputs (the
 * sources, the tsconfig files, the compiler's version) and still holds exactly what that build wrote, both
 * compared by content: timestamps say nothing after a checkout, and dist/ may have been rebuilt from other
 * sources by `npm run build` since. A lock keeps two test files, or two runs, from building at once.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = path.join(root, 'dist');
/** the built command line */
export const CLI_PATH = path.join(dist, 'cli.js');
// Under node_modules, not dist/: dist/ is what the package ships; `npm ci` also wipes the stamp.
const cache = path.join(root, 'node_modules/.cache/prfactory-worker-tests');
const stampFile = path.join(cache, 'cli-build.json');
const lockDir = path.join(cache, 'cli-build.lock');

const run = promisify(execFile);

/** dist/ui/ is the dashboard's, built by builtUi.ts: this build neither reads nor removes it */
const UI_FOLDER = 'ui';

/** path/content digest of every file under `directory` (but `skip/`), or of none when it does not exist */
export function digestTree(directory: string, hash = createHash('sha256'), skip?: string) {
  if (!existsSync(directory)) return hash;
  const files = readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((name) => skip === undefined || name.split(path.sep)[0] !== skip)
    .filter((name) => statSync(path.join(directory, name)).isFile())
    .sort();
  for (const name of files) {
    hash.update(`${name.split(path.sep).join('/')}\0`);
    hash.update(readFileSync(path.join(directory, name)));
    hash.update('\0');
  }
  return hash;
}

function inputsDigest(): string {
  const hash = digestTree(path.join(root, 'src'));
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'node_modules/typescript/package.json']) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(root, file)));
  }
  return hash.digest('hex');
}

function outputsDigest(): string {
  return digestTree(dist, undefined, UI_FOLDER).digest('hex');
}

interface Stamp {
  inputs: string;
  outputs: string;
}

function readStamp(): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

function isCurrent(): boolean {
  const stamp = readStamp();
  return stamp !== undefined && stamp.inputs === inputsDigest() && stamp.outputs === outputsDigest();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * takes the lock of dist/, waiting for another builder; a lock whose owner died is taken over. The dashboard's
 * build (builtUi.ts) takes it too: this build empties dist/ while it runs.
 */
export async function lockDist(timeoutMs: number): Promise<() => void> {
  mkdirSync(cache, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(path.join(lockDir, 'pid'), 'utf8'));
    } catch {
      // the owner has made the folder but not yet written its pid, or has just let go
    }
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another build of dist/ holds ${lockDir}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Builds dist/ when it is not current and returns the path of `dist/cli.js`. The build is `npm run build`'s
 * (`tsc -p tsconfig.build.json`) with `--noCheck`: the same files without a second type check, since type
 * errors are `npm run typecheck`'s to report, not the command-line tests'.
 */
export async function builtCli({ timeoutMs = 180_000 } = {}): Promise<string> {
  if (isCurrent()) return CLI_PATH;
  const unlock = await lockDist(timeoutMs);
  try {
    // another builder may have finished while this one waited
    if (isCurrent()) return CLI_PATH;
    const inputs = inputsDigest();
    rmSync(stampFile, { force: true });
    // files of sources since deleted must not linger in dist/ and be imported by nothing but a stale test
    if (existsSync(dist)) {
      for (const entry of readdirSync(dist)) {
        if (entry !== UI_FOLDER) rmSync(path.join(dist, entry), { recursive: true, force: true });
      }
    }
    await run(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--noCheck'], {
      cwd: root,
      timeout: timeoutMs,
    }).catch((error: { message: string; stdout?: string }) => {
      // tsc prints its diagnostics on stdout
      throw new Error(`building dist/ failed: ${error.stdout || error.message}`);
    });
    // a source edited during the build leaves no stamp: the next run builds again
    if (inputsDigest() === inputs) {
      writeFileSync(stampFile, JSON.stringify({ inputs, outputs: outputsDigest() } satisfies Stamp));
    }
    return CLI_PATH;
  } finally {
    unlock();
  }
}

/**
 * Runs once before the suite: the integration tests need the machine's PostgreSQL (and, for the NATS tests,
 * NATS). A missing service fails the run loudly here instead of skipping tests silently. A run made only of
 * the folders that need no service (`npm run test:fast`) skips the check, so the edit loop works without them.
 */
import net from 'node:net';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

/** the test folders that start no service and reach none; keep `test:fast` in package.json the same list */
const SERVICE_FREE_FOLDERS = ['test/unit', 'test/paths', 'test/graph-versions'];

function answers(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * True when every test file of this run lies in a service-free folder. The files come from vitest's state
 * API, marked experimental: when it is missing or says nothing, the answer is false and the check runs.
 */
function needsNoService(project: TestProject): boolean {
  let files: string[];
  try {
    files = project.vitest.state.getPaths();
  } catch {
    return false;
  }
  const root = project.config.root;
  return (
    files.length > 0 &&
    files.every((file) => {
      const relative = path.relative(root, file).split(path.sep).join('/');
      return SERVICE_FREE_FOLDERS.some((folder) => relative.startsWith(`${folder}/`));
    })
  );
}

export default async function globalSetup(project: TestProject): Promise<void> {
  if (needsNoService(project)) return;
  const pgUrl = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  if (!(await answers(pgUrl.hostname, Number(pgUrl.port || 5432)))) {
    throw new Error(
      `PostgreSQL does not answer at ${pgUrl.hostname}:${pgUrl.port || 5432}: the integration tests need it (run .ci/run, which starts it)`,
    );
  }
}

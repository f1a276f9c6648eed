/**
 * Runs once before the suite: the integration tests need the machine's PostgreSQL (and, for the NATS tests,
 * NATS). A missing service fails the run loudly here instead of skipping tests silently.
 */
import net from 'node:net';

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

export default async function globalSetup(): Promise<void> {
  const pgUrl = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  if (!(await answers(pgUrl.hostname, Number(pgUrl.port || 5432)))) {
    throw new Error(
      `PostgreSQL does not answer at ${pgUrl.hostname}:${pgUrl.port || 5432}: the integration tests need it (run .ci/run, which starts it)`,
    );
  }
}

/**
 * Workers on NATS for one test at a time: a test client and a cluster on a subject prefix of their own, both
 * cleaned up after each test. The client is made first, so that its cleanup deletes the streams even when the
 * workers fail to start.
 *
 * ```ts
 * const start = natsClusterPerTest();
 * it('…', async () => {
 *   const { client, cluster, names, worker } = await start(2, { graphs, agents });
 * });
 * ```
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { afterEach } from 'vitest';
import type { ConfigInput, DeepPartial } from '../../src/config.js';
import { type NatsTestClient, natsConfig, natsTestClient, uniquePrefix } from './nats.js';
import { startCluster, type TestCluster } from './worker.js';

type ClusterOptions = NonNullable<Parameters<typeof startCluster>[1]>;

export function natsClusterPerTest() {
  let client: NatsTestClient | undefined;
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    await client?.cleanup();
    cluster = undefined;
    client = undefined;
  });
  /** `options.config.Nats` adds to the test's NATS keys (URL and prefix). */
  return async function start(workers: number, options: ClusterOptions = {}) {
    const prefix = uniquePrefix();
    client = await natsTestClient(prefix);
    const config = (options.config ?? {}) as DeepPartial<ConfigInput>;
    const withNats = {
      ...options,
      config: { ...config, Nats: { ...natsConfig(prefix).Nats, ...config.Nats } },
    };
    cluster = await startCluster(workers, withNats);
    return { client, cluster, options: withNats, names: client.names, worker: cluster.workers[0] };
  };
}

/** A pino logger whose lines a test reads back as parsed JSON. */
export function capturingLogger(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    }),
  );
  return { logger, lines };
}

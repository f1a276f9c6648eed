/**
 * `prfactory-worker run` in a real process keeps serving when its surroundings fail: more slow clients than it
 * has file descriptors (`ulimit -n 512`), a full disk under both log destinations (stdout and the daily file on
 * /dev/full: ENOSPC), stdout closed, stdout a pipe nobody reads any more (EPIPE). Each used to end the process:
 * EMFILE from `accept` or from the log file's append, an 'error' event of pino's stdout destination.
 */
import { closeSync, openSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logFileName } from '../../../src/telemetry/dailyFile.js';
import { type CliWorker, startCliWorker } from '../../support/cliWorker.js';
import { openRaw, type RawConnection } from '../../support/rawHttp.js';

/** A request the worker answers with real work: it writes an execution and reads it back. */
async function startAndRead(url: string): Promise<void> {
  const started = await fetch(`${url}/v1/executions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      graph: 'refinement',
      tenantId: 'acme',
      ticket: { key: 'S-1', title: 'Survive' },
      repository: { url: '/nonexistent/repository' },
    }),
  });
  expect(started.status).toBe(202);
  const { executionId } = (await started.json()) as { executionId: string };
  const read = await fetch(`${url}/v1/executions/${executionId}`);
  expect(read.status).toBe(200);
}

/**
 * `count` clients that each declare a large body and send one byte of it, as the hostile run did; a client
 * that reads the end of its answer leaves, as a real one would. `closed()` counts those the worker closed.
 */
async function openSlowClients(url: string, count: number) {
  const clients: RawConnection[] = [];
  let closed = 0;
  for (let i = 0; i < count; i++) {
    const client = await openRaw(
      url,
      'POST /v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{',
    ).catch(() => undefined); // refused by the kernel: the worker's backlog is full
    if (!client) continue;
    void client.closed.then(() => closed++);
    client.socket.on('end', () => client.socket.destroy());
    clients.push(client);
  }
  return { clients, closed: () => closed };
}

function lostNotices(worker: CliWorker): Record<string, unknown>[] {
  return worker.stderr
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((line) => line.msg === 'log lines lost');
}

/**
 * The built worker's own start opens a few hundred files at once (Node's ESM loader reads a package's modules
 * concurrently), so the limit leaves room for that; the slow clients then outnumber what is left.
 */
const FILE_LIMIT = 512;
const SLOW_CLIENTS = 700;

describe('a worker process under hostile surroundings', () => {
  let worker: CliWorker | undefined;
  afterEach(async () => {
    await worker?.cleanup();
    worker = undefined;
  });

  it('outlives more slow clients than it has file descriptors, and answers once they leave', async () => {
    worker = await startCliWorker({ shell: `ulimit -n ${FILE_LIMIT}` });
    await worker.healthy();
    const cap = worker.stdout
      .map((line) => JSON.parse(line) as { msg?: string; maxConnections?: number })
      .find((line) => line.msg === 'HTTP connection limit')?.maxConnections;

    const slow = await openSlowClients(worker.url, SLOW_CLIENTS);
    const { clients } = slow;
    // Every connection past the cap is answered (or dropped) and closed by the worker, not held.
    const deadline = Date.now() + 30_000;
    while (!worker.exit && slow.closed() < clients.length - (cap ?? 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(worker.exit, worker.stderr.slice(-10).join('\n')).toBeUndefined();
    expect(cap).toBeGreaterThan(0);
    expect(cap).toBeLessThan(FILE_LIMIT);
    expect(slow.closed()).toBeGreaterThanOrEqual(clients.length - cap!);
    expect(clients.some((c) => c.received.startsWith('HTTP/1.1 503'))).toBe(true);
    expect(worker.stdout.some((line) => line.includes('HTTP connections refused'))).toBe(true);

    for (const client of clients) client.socket.destroy();
    await worker.healthy();
    await startAndRead(worker.url);
    expect(worker.exit).toBeUndefined();
  });

  it('outlives running out of file descriptors (a cap set too high): the log file fails, it does not', async () => {
    worker = await startCliWorker({
      shell: `ulimit -n ${FILE_LIMIT}`,
      env: { Http__MaxConnections: '5000' },
    });
    await worker.healthy();
    const slow = await openSlowClients(worker.url, SLOW_CLIENTS);
    // The descriptors ran out: the daily file could not be opened for a line (what used to end the process).
    const notice = await worker.waitForLine(
      'stderr',
      (l) => l.includes('log lines lost') && l.includes('EMFILE'),
    );
    expect(JSON.parse(notice)).toMatchObject({ destination: 'log file', code: 'EMFILE' });
    expect(worker.exit, worker.stderr.slice(-10).join('\n')).toBeUndefined();

    for (const client of slow.clients) client.socket.destroy();
    await worker.healthy();
    await startAndRead(worker.url);
    expect(worker.exit).toBeUndefined();
  });

  it('keeps serving with stdout and the daily log file on a full disk (/dev/full)', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      worker = await startCliWorker({
        stdout: full,
        prepareLogs: (directory) => symlinkSync('/dev/full', path.join(directory, logFileName())),
      });
    } finally {
      closeSync(full);
    }
    await worker.healthy();
    await startAndRead(worker.url);
    expect(worker.exit).toBeUndefined();
    // the loss is told on stderr, once per destination (not once per line)
    const notices = lostNotices(worker);
    expect(notices).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ destination: 'stdout', code: 'ENOSPC' }),
        expect.objectContaining({ destination: 'log file', code: 'ENOSPC' }),
      ]),
    );
    expect(notices.filter((n) => n.destination === 'stdout')).toHaveLength(1);

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });

  it('keeps serving with stdout closed', async () => {
    worker = await startCliWorker({ shell: 'exec 1>&-' });
    await worker.healthy();
    await startAndRead(worker.url);
    expect(worker.exit).toBeUndefined();
  });

  it('keeps serving when the reader of its stdout goes away (EPIPE)', async () => {
    worker = await startCliWorker();
    worker.child.stdout!.destroy();
    await worker.healthy();
    await startAndRead(worker.url);
    expect(worker.exit).toBeUndefined();
    expect(lostNotices(worker)).toEqual(
      expect.arrayContaining([expect.objectContaining({ destination: 'stdout', code: 'EPIPE' })]),
    );
  });
});

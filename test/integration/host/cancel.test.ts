/**
 * A cancel stops the run that holds the execution at once, on whichever worker: the wake-up that follows the
 * cancel names the execution, and its worker checks the lease then instead of at its next renewal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../../src/host/bus.js';
import { abortedAt, gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

describe('cancel of a running execution', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  it('aborts its agent on the worker running it, long before that worker renews its lease', async () => {
    const aborted: number[] = [];
    const runs: { key: string; executionId: string }[] = [];
    // Two workers that share a bus, as two processes share NATS. LeaseSeconds 60: renewals every 20 s.
    cluster = await startCluster(2, {
      graphs: [gateGraph()],
      agents: recordingAgents(['before', 'after'], runs, async (key, _input, signal) => {
        if (key === 'before') aborted.push(await abortedAt(signal));
      }),
      bus: new InProcessBus(),
      config: { AgentHost: { LeaseSeconds: 60 } },
    });
    const [first, second] = cluster.workers as [(typeof cluster.workers)[0], (typeof cluster.workers)[0]];
    const { executionId } = await first.service.start(startBody('gate'), meta);
    await waitForStatus(first, executionId, ['running']);
    const deadline = Date.now() + 10_000;
    while (runs.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const runner = cluster.workers.find((w) => w.host.active > 0)!;
    const other = runner === first ? second : first;

    const cancelledAt = Date.now();
    await other.service.cancel(executionId, { tenantId: 'acme', reason: 'enough' }, meta);
    const until = Date.now() + 5_000;
    while (aborted.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(aborted).toHaveLength(1);
    expect(aborted[0]! - cancelledAt).toBeLessThan(5_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(runner.host.active).toBe(0);
    expect((await other.service.get(executionId)).status).toBe('cancelled');
  });
});

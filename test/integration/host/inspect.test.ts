/** The inspector hook reaches every actor the host runs, restored ones included. */
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

it('reports the transitions of fresh and restored actors to the inspector', async () => {
  const events: InspectionEvent[] = [];
  cluster = await startCluster(1, {
    graphs: [gateGraph()],
    agents: recordingAgents(['before', 'after'], []),
    inspect: { next: (e) => events.push(e) },
  });
  const worker = cluster.workers[0]!;
  const { executionId } = await worker.service.start(startBody('gate'), meta);
  await waitForStatus(worker, executionId, ['suspended']);
  const beforeResume = events.length;
  await worker.service.resume(
    executionId,
    { eventId: randomUUID(), tenantId: 'acme', type: 'answers_received', answers: { q1: 'y' } },
    meta,
  );
  await waitForStatus(worker, executionId, ['completed']);
  const received = events
    .filter((e) => e.type === '@xstate.event')
    .map((e) => (e as { event: { type: string } }).event.type);
  expect(beforeResume).toBeGreaterThan(0);
  expect(received).toContain('answers_received');
  expect(received.some((t) => t.startsWith('xstate.done.actor.'))).toBe(true);
});

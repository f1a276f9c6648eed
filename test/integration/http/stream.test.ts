/** The SSE stream of a real execution: live events in order, replay after Last-Event-ID, closed at the end. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateGraph, recordingAgents, startBody } from '../../support/testGraphs.js';
import { startCluster, type TestCluster } from '../../support/worker.js';

async function readStream(
  url: string,
  headers: Record<string, string> = {},
  onEvent?: (e: { id: number; kind: string }) => void,
) {
  const response = await fetch(url, { headers });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const decoder = new TextDecoder();
  let buffer = '';
  const events: { id: number; kind: string; data: Record<string, unknown> }[] = [];
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const id = /^id: (\d+)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (id && data) {
        const parsed = JSON.parse(data) as Record<string, unknown>;
        const event = { id: Number(id), kind: String(parsed.kind), data: parsed };
        events.push(event);
        onEvent?.(event);
      }
      end = buffer.indexOf('\n\n');
    }
  }
  return events; // the server closed the stream
}

describe('the event stream of a real execution', () => {
  let cluster: TestCluster;
  let base: string;
  beforeAll(async () => {
    cluster = await startCluster(0);
    base = (
      await cluster.add({
        http: true,
        graphs: [gateGraph()],
        agents: recordingAgents(['before', 'after'], []),
      })
    ).url!;
  });
  afterAll(() => cluster.cleanup());

  it('follows an execution to its end, then replays after Last-Event-ID', async () => {
    const worker = cluster.workers[0]!;
    const { executionId } = await worker.service.start(startBody('gate'), { source: 'library' });
    const events = await readStream(`${base}/v1/executions/${executionId}/stream`, {}, (e) => {
      if (e.kind === 'suspended') {
        void worker.service.resume(
          executionId,
          { eventId: randomUUID(), tenantId: 'acme', type: 'answers_received', answers: { q1: 'ok' } },
          { source: 'library' },
        );
      }
    });
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.kind)).toEqual([
      'started',
      'state',
      'suspended',
      'resumed',
      'state',
      'completed',
    ]);
    const replay = await readStream(`${base}/v1/executions/${executionId}/stream`, { 'last-event-id': '3' });
    expect(replay.map((e) => e.id)).toEqual([4, 5, 6]);
  });

  it('answers 404 for an unknown execution', async () => {
    expect((await fetch(`${base}/v1/executions/${randomUUID()}/stream`)).status).toBe(404);
  });
});

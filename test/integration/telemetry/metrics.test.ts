/**
 * `GET /metrics` (docs/operations.md): the seven metrics in Prometheus text format with their attributes and values
 * that match what the workers did — three executions that complete, one that fails after a retry, one held
 * running while the gauge is read, one cancelled while it waits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import type { Worker } from '../../../src/worker.js';
import { gateGraph, startBody, stepsGraph } from '../../support/testGraphs.js';
import { meta, startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`. */
function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(worker: Worker): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(`${worker.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await response.text();
  return { text, samples: parseExposition(text) };
}

describe('GET /metrics', () => {
  let cluster: TestCluster;
  let worker: Worker;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let heldId: string;
  let whileHeld: Sample[];
  let after: { text: string; samples: Sample[] };

  beforeAll(async () => {
    const step = (async () => ({ ok: true })) as AgentFn<never, unknown>;
    cluster = await startCluster(0);
    worker = await cluster.add({
      http: true,
      graphs: [
        stepsGraph('fine', 2),
        stepsGraph('doomed', 1, 'boom'),
        stepsGraph('slow', 1, 'hold'),
        gateGraph('waits'),
      ],
      agents: {
        step1: step,
        step2: step,
        boom1: (async () => {
          throw new Error('boom');
        }) as AgentFn<never, unknown>,
        hold1: (async () => {
          await held;
          return { ok: true };
        }) as AgentFn<never, unknown>,
        before: step,
        after: step,
      },
      config: { AgentHost: { MaxRetries: 1 } },
    });
    const start = async (graph: string) => (await worker.service.start(startBody(graph), meta)).executionId;
    const fine = await Promise.all([start('fine'), start('fine'), start('fine')]);
    const doomed = await start('doomed');
    heldId = await start('slow');
    const waiting = await start('waits');
    await waitForStatus(worker, waiting, ['suspended']);
    await worker.service.cancel(waiting, { tenantId: 'acme', reason: 'not needed' }, meta);
    for (const id of fine) await waitForStatus(worker, id, ['completed']);
    await waitForStatus(worker, doomed, ['failed']);
    await waitForStatus(worker, heldId, ['running']);
    whileHeld = (await scrape(worker)).samples;
    release();
    await waitForStatus(worker, heldId, ['completed']);
    after = await scrape(worker);
  });

  afterAll(async () => {
    release();
    await cluster?.cleanup();
  });

  it('counts the workflows started and ended, by graph and final status', () => {
    const { samples } = after;
    expect(sampleValue(samples, 'workflow_started_total', { graph: 'fine' })).toBe(3);
    expect(sampleValue(samples, 'workflow_started_total', { graph: 'doomed' })).toBe(1);
    expect(sampleValue(samples, 'workflow_started_total', { graph: 'slow' })).toBe(1);
    expect(sampleValue(samples, 'workflow_started_total', { graph: 'waits' })).toBe(1);
    expect(sampleValue(samples, 'workflow_completed_total', { graph: 'fine', status: 'completed' })).toBe(3);
    expect(sampleValue(samples, 'workflow_completed_total', { graph: 'doomed', status: 'failed' })).toBe(1);
    expect(sampleValue(samples, 'workflow_completed_total', { graph: 'slow', status: 'completed' })).toBe(1);
    expect(sampleValue(samples, 'workflow_completed_total', { graph: 'waits', status: 'cancelled' })).toBe(1);
    expect(
      sampleValue(samples, 'workflow_completed_total', { graph: 'fine', status: 'failed' }),
    ).toBeUndefined();
  });

  it('times the workflows in a histogram of seconds, by graph', () => {
    const { samples } = after;
    const count = sampleValue(samples, 'workflow_duration_count', { graph: 'fine' });
    const sum = sampleValue(samples, 'workflow_duration_sum', { graph: 'fine' })!;
    expect(count).toBe(3);
    // From creation to end: more than nothing, and seconds (not milliseconds) for three tiny executions.
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(3 * 10);
    const buckets = samples.filter((s) => s.name === 'workflow_duration_bucket' && s.labels.graph === 'fine');
    expect(buckets.length).toBeGreaterThan(2);
    expect(buckets.find((b) => b.labels.le === '+Inf')?.value).toBe(3);
    const values = buckets.map((b) => b.value);
    expect(values).toEqual([...values].sort((a, b) => a - b)); // cumulative
  });

  it('counts agent steps by agent and status', () => {
    const { samples } = after;
    expect(sampleValue(samples, 'agent_executions_total', { agent: 'step1', status: 'completed' })).toBe(3);
    expect(sampleValue(samples, 'agent_executions_total', { agent: 'step2', status: 'completed' })).toBe(3);
    // MaxRetries 1: the first attempt and one retry.
    expect(sampleValue(samples, 'agent_executions_total', { agent: 'boom1', status: 'failed' })).toBe(2);
    expect(sampleValue(samples, 'agent_executions_total', { agent: 'hold1', status: 'completed' })).toBe(1);
  });

  it('shows the executions this worker runs as workflow_active', () => {
    expect(sampleValue(whileHeld, 'workflow_active')).toBe(1);
    expect(sampleValue(after.samples, 'workflow_active')).toBe(0);
  });

  it('times checkpoint writes in a histogram of seconds', () => {
    const { samples } = after;
    const count = sampleValue(samples, 'checkpoint_write_duration_count')!;
    const sum = sampleValue(samples, 'checkpoint_write_duration_sum')!;
    // Group commits batch the checkpoints of several executions, so the count varies; but the held execution's
    // last write came after every other execution had ended: a commit of its own, after at least one before.
    expect(count).toBeGreaterThanOrEqual(2);
    expect(sum).toBeGreaterThan(0);
    expect(sum / count).toBeLessThan(1); // seconds: a commit on the local PostgreSQL takes milliseconds
    expect(sampleValue(samples, 'checkpoint_write_duration_bucket', { le: '+Inf' })).toBe(count);
  });

  it('reads queue_depth from the database at an interval, not per scrape, never the finished history', async () => {
    // This worker counted at its start, when the schema was empty: its scrape now still says so.
    expect(sampleValue(after.samples, 'queue_depth', { status: 'failed' })).toBe(0);
    // A worker started now counts at its start: one failed, nothing waiting; the four completed and the
    // cancelled one are history, which the gauge does not count (it would grow for ever).
    const late = await cluster.add({ http: true });
    let samples: Sample[] = [];
    for (let i = 0; i < 50 && sampleValue(samples, 'queue_depth', { status: 'failed' }) !== 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      samples = (await scrape(late)).samples;
    }
    expect(sampleValue(samples, 'queue_depth', { status: 'failed' })).toBe(1);
    for (const status of ['pending', 'running', 'suspended', 'retrying'])
      expect(sampleValue(samples, 'queue_depth', { status }), status).toBe(0);
    for (const status of ['completed', 'cancelled'])
      expect(sampleValue(samples, 'queue_depth', { status }), status).toBeUndefined();
  });

  it('declares every metric with its type', () => {
    const types = Object.fromEntries(
      [...after.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]] as const),
    );
    expect(types).toMatchObject({
      workflow_started_total: 'counter',
      workflow_completed_total: 'counter',
      workflow_duration: 'histogram',
      agent_executions_total: 'counter',
      workflow_active: 'gauge',
      queue_depth: 'gauge',
      checkpoint_write_duration: 'histogram',
    });
  });
});

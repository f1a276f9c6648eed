/**
 * The dashboard's overview routes over real HTTP on PostgreSQL: `GET /v1/stats` counts per status, graph and
 * tenant; `GET /v1/workers` names the worker holding a live lease and the queue per status; `GET /v1/graphs`
 * gives every graph version's state tree. A tenant's token sees its own tenant only.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentFn } from '../../../src/actors/agent.js';
import type { StateTreeNode } from '../../../src/machines/stateTree.js';
import type { Worker } from '../../../src/worker.js';
import { abortedAt, gateGraph, recordingAgents, startBody, stepsGraph } from '../../support/testGraphs.js';
import { startCluster, type TestCluster, waitForStatus } from '../../support/worker.js';

const OPERATOR = `op-${randomBytes(12).toString('hex')}`;
const ACME = `acme-${randomBytes(12).toString('hex')}`;
const GLOBEX = `globex-${randomBytes(12).toString('hex')}`;

const statuses = ['pending', 'running', 'suspended', 'retrying', 'completed', 'failed', 'cancelled'];
const counts = (some: Record<string, number>) => Object.fromEntries(statuses.map((s) => [s, some[s] ?? 0]));

async function get(base: string, url: string, token: string) {
  const response = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Every node of a state tree, depth first. */
function nodesOf(node: StateTreeNode): StateTreeNode[] {
  return [node, ...Object.values(node.states ?? {}).flatMap(nodesOf)];
}

describe('stats, workers and graphs over HTTP', () => {
  let cluster: TestCluster;
  let worker: Worker;
  let holding = '';

  beforeAll(async () => {
    cluster = await startCluster(0);
    const failing: AgentFn<never, unknown> = async () => {
      throw new Error('the step fails');
    };
    // `hold1` runs until its run is stopped: the execution holds its lease meanwhile.
    const holdUntilStopped: AgentFn<never, unknown> = async (_input, ctx) => {
      await abortedAt(ctx.signal);
      throw new Error('stopped');
    };
    worker = await cluster.add({
      http: true,
      graphs: [gateGraph(), stepsGraph('flaky', 1), stepsGraph('slow', 1, 'hold')],
      agents: { ...recordingAgents(['before', 'after'], []), step1: failing, hold1: holdUntilStopped },
      config: {
        AgentHost: { MaxRetries: 0 },
        Http: { ApiToken: OPERATOR },
        Tenants: { acme: { ApiToken: ACME }, globex: { ApiToken: GLOBEX } },
      },
    });
    const meta = { source: 'library' as const };
    const start = async (graph: string, tenantId: string) =>
      (await worker.service.start(startBody(graph, { tenantId }), meta)).executionId;
    const waiting = [await start('gate', 'acme'), await start('gate', 'acme'), await start('gate', 'globex')];
    const failed = await start('flaky', 'acme');
    holding = await start('slow', 'globex');
    for (const id of waiting) await waitForStatus(worker, id, ['suspended']);
    await waitForStatus(worker, failed, ['failed']);
    await waitForStatus(worker, holding, ['running']);
  });

  afterAll(async () => {
    if (holding) {
      await worker.service.cancel(holding, { tenantId: 'globex' }, { source: 'library' }).catch(() => {});
    }
    await cluster?.cleanup();
  });

  it('counts executions per status, graph and tenant, every status named', async () => {
    const { status, body } = await get(worker.url!, '/v1/stats', OPERATOR);
    expect(status).toBe(200);
    expect(body).toEqual({
      byStatus: counts({ suspended: 3, failed: 1, running: 1 }),
      byGraph: {
        gate: counts({ suspended: 3 }),
        flaky: counts({ failed: 1 }),
        slow: counts({ running: 1 }),
      },
      byTenant: {
        acme: counts({ suspended: 2, failed: 1 }),
        globex: counts({ suspended: 1, running: 1 }),
      },
    });
    const gate = await get(worker.url!, '/v1/stats?graph=gate', OPERATOR);
    expect(gate.body.byStatus).toEqual(counts({ suspended: 3 }));
    expect(Object.keys(gate.body.byGraph as object)).toEqual(['gate']);
    const globex = await get(worker.url!, '/v1/stats?tenantId=globex&graph=', OPERATOR);
    expect(globex.body.byTenant).toEqual({ globex: counts({ suspended: 1, running: 1 }) });
    const bad = await get(worker.url!, `/v1/stats?graph=${'g'.repeat(101)}`, OPERATOR);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('graph'),
    });
  });

  it('shows a tenant its own counts only', async () => {
    const own = await get(worker.url!, '/v1/stats', ACME);
    expect(own.body).toEqual({
      byStatus: counts({ suspended: 2, failed: 1 }),
      byGraph: { gate: counts({ suspended: 2 }), flaky: counts({ failed: 1 }) },
      byTenant: { acme: counts({ suspended: 2, failed: 1 }) },
    });
    const foreign = await get(worker.url!, '/v1/stats?tenantId=globex', ACME);
    expect(foreign.body).toEqual({ byStatus: counts({}), byGraph: {}, byTenant: {} });
    expect((await get(worker.url!, '/v1/stats', 'not-a-token')).status).toBe(401);
  });

  it('names the worker holding a live lease, its executions and the queue', async () => {
    const { status, body } = await get(worker.url!, '/v1/workers', OPERATOR);
    expect(status).toBe(200);
    expect(body).toEqual({
      workers: [{ workerId: worker.id, executions: [holding], leaseExpiresAt: expect.any(String), held: 1 }],
      queue: counts({ suspended: 3, failed: 1, running: 1 }),
    });
    const expiry = Date.parse((body.workers as { leaseExpiresAt: string }[])[0]!.leaseExpiresAt);
    expect(expiry).toBeGreaterThan(Date.now());
    expect(expiry).toBeLessThan(Date.now() + 10_000);
    // the lease is globex's: globex sees the worker, acme sees none, and each its own queue
    expect((await get(worker.url!, '/v1/workers', GLOBEX)).body).toEqual({
      workers: [{ workerId: worker.id, executions: [holding], leaseExpiresAt: expect.any(String), held: 1 }],
      queue: counts({ suspended: 1, running: 1 }),
    });
    expect((await get(worker.url!, '/v1/workers', ACME)).body).toEqual({
      workers: [],
      queue: counts({ suspended: 2, failed: 1 }),
    });
    expect((await get(worker.url!, '/v1/workers?tenantId=acme', OPERATOR)).body).toMatchObject({
      workers: [],
    });
  });

  it('gives every graph version as a state tree whose transitions name states of the tree', async () => {
    const { status, body } = await get(worker.url!, '/v1/graphs', ACME);
    expect(status).toBe(200);
    const graphs = body.graphs as { id: string; version: number; root: StateTreeNode }[];
    expect(graphs.map((g) => `${g.id}@${g.version}`)).toEqual(
      expect.arrayContaining([
        'prfactory@1',
        'prfactory@2',
        'planning@1',
        'planning@2',
        'refinement@1',
        'implementation@1',
        'gate@1',
        'flaky@1',
        'slow@1',
      ]),
    );
    for (const graph of graphs) {
      const nodes = nodesOf(graph.root);
      const ids = new Set(nodes.map((n) => n.id));
      for (const node of nodes) {
        for (const t of node.on ?? []) {
          for (const target of t.targets) expect(ids.has(target), `${graph.id}: ${target}`).toBe(true);
        }
        if (node.initial) expect(node.states?.[node.initial], `${graph.id}: ${node.id}`).toBeDefined();
      }
    }

    const gate = graphs.find((g) => g.id === 'gate')!.root;
    expect(gate).toMatchObject({ key: 'gate', id: 'gate', path: '', type: 'compound', initial: 'before' });
    expect(gate.states?.before).toMatchObject({
      id: 'gate.before',
      type: 'atomic',
      invoke: ['before'],
      on: expect.arrayContaining([{ event: 'xstate.done.actor.before', targets: ['gate.waiting'] }]),
    });
    expect(gate.states?.waiting).toEqual({
      key: 'waiting',
      id: 'gate.waiting',
      path: 'waiting',
      type: 'atomic',
      on: [{ event: 'answers_received', targets: ['gate.after'] }],
      tags: ['waiting'],
      meta: { wait: { accepts: ['answers_received'], shows: [] } },
    });
    expect(gate.states?.done).toEqual({ key: 'done', id: 'gate.done', path: 'done', type: 'final' });

    // an execution's state is a path of its graph's tree
    const prfactory = graphs.find((g) => g.id === 'prfactory' && g.version === 2)!.root;
    const paths = new Set(nodesOf(prfactory).map((n) => n.path));
    for (const path of ['planning.awaitingApproval', 'planning.publishPlan.commitPlan.running']) {
      expect(paths.has(path), path).toBe(true);
    }
    const publish = nodesOf(prfactory).find((n) => n.path === 'planning.publishPlan')!;
    expect(publish.type).toBe('parallel');
    const approval = nodesOf(prfactory).find((n) => n.path === 'planning.awaitingApproval')!;
    expect(approval.meta?.wait?.accepts).toEqual(['plan_approved', 'plan_rejected']);
  });
});

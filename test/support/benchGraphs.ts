/**
 * The graphs of the benchmarks (bench/), registered by worker processes started with `benchGraphs: true` and by
 * the bench's own submitter: `noop5`, a chain of five agents (`noop1` … `noop5`), and `gate`, one agent, a wait
 * for `answers_received`, another agent. Their agents do nothing — or sleep `stepMs`, so that executions stay
 * running while the bench measures memory.
 *
 * The chain's agents are `noop1` … `noop5`, not `step1` … `step5`: agents are looked up by key, and the worker
 * process already implements `step1` … `step3` for its `chain` graph (recording every run in `step_runs`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentFn } from '../../src/actors/agent.js';
import type { GraphDefinition } from '../../src/machines/graph.js';
import { gateGraph, stepsGraph } from './testGraphs.js';

export const NOOP5_GRAPH = 'noop5';
export const GATE_GRAPH = 'gate';
const NOOP_PREFIX = 'noop';

export function benchGraphs(): GraphDefinition[] {
  return [stepsGraph(NOOP5_GRAPH, 5, NOOP_PREFIX), gateGraph(GATE_GRAPH)];
}

/** Agents of {@link benchGraphs}: each returns at once (`stepMs` 0) or after `stepMs`, honouring its signal. */
export function benchAgents(stepMs = 0): Record<string, AgentFn<never, unknown>> {
  const keys = [...Array.from({ length: 5 }, (_, i) => `${NOOP_PREFIX}${i + 1}`), 'before', 'after'];
  const agent: AgentFn<unknown, { ok: true }> =
    stepMs === 0
      ? async () => ({ ok: true })
      : async (_input, ctx) => {
          await sleep(stepMs, undefined, { signal: ctx.signal });
          return { ok: true };
        };
  return Object.fromEntries(keys.map((key) => [key, agent as AgentFn<never, unknown>]));
}

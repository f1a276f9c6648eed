/**
 * Graphs for host tests and benchmarks: `steps` runs a chain of agents (`step1` … `stepN`) and ends; `gate`
 * runs one step, waits for `answers_received`, then runs another. Their agents are given per test, so a step
 * can do nothing, fail on cue, hang, or kill its process.
 */
import { assign, setup } from 'xstate';
import type { AgentFn } from '../../src/actors/agent.js';
import type { AgentKey } from '../../src/machines/agent-io.js';
import { type WorkflowInput, workflowInputSchema } from '../../src/machines/domain.js';
import { AGENT_ERROR_TAG, WAITING_TAG } from '../../src/machines/events.js';
import { agentErrorUpdate } from '../../src/machines/fragments/common.js';
import { agentSlot, type GraphDefinition } from '../../src/machines/graph.js';
import { waitMeta } from '../../src/machines/waits.js';

interface StepInput {
  executionId: string;
  step: number;
}
type Ctx = {
  executionId: string;
  done: number;
  answers?: Record<string, string>;
  agentError?: ReturnType<typeof agentErrorUpdate>['agentError'];
};

/** A chain of `count` agent steps named `<prefix>1` … `<prefix><count>`. */
export function stepsGraph(id: string, count: number, prefix = 'step'): GraphDefinition {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
  const actors = Object.fromEntries(keys.map((k) => [k, agentSlot<StepInput, { ok: true }>(k)]));
  const states: Record<string, object> = {};
  keys.forEach((key, i) => {
    states[key] = {
      invoke: {
        id: key,
        src: key,
        input: ({ context }: { context: Ctx }) => ({ executionId: context.executionId, step: i + 1 }),
        onDone: { target: keys[i + 1] ?? 'done', actions: assign({ done: i + 1 }) },
        onError: {
          target: 'agentFailed',
          // As the built-in graphs record it: agent, message, and the failure's kind and wait.
          actions: assign(({ event }: { event: { error: unknown } }) =>
            agentErrorUpdate({ agent: key as AgentKey, error: event.error }),
          ),
        },
      },
    };
  });
  const machine = setup({
    types: { context: {} as Ctx, input: {} as WorkflowInput },
    // biome-ignore lint/suspicious/noExplicitAny: a generated chain of slots; each is a promise actor by key
    actors: actors as any,
  }).createMachine({
    id,
    context: ({ input }) => ({ executionId: input.executionId, done: 0 }),
    initial: keys[0]!,
    states: {
      // biome-ignore lint/suspicious/noExplicitAny: state configs built in a loop above
      ...(states as any),
      done: { type: 'final' },
      agentFailed: { type: 'final', tags: [AGENT_ERROR_TAG] },
    },
  });
  return { id, version: 1, machine, createInput: (input) => workflowInputSchema.parse(input) };
}

/** `before` → wait for answers (tag waiting) → `after` → done. */
export function gateGraph(id = 'gate'): GraphDefinition {
  const machine = setup({
    types: {
      context: {} as Ctx,
      input: {} as WorkflowInput,
      events: {} as { type: 'answers_received'; answers: Record<string, string> },
    },
    actors: {
      before: agentSlot<StepInput, { ok: true }>('before'),
      after: agentSlot<StepInput, { ok: true }>('after'),
    },
  }).createMachine({
    id,
    context: ({ input }) => ({ executionId: input.executionId, done: 0 }),
    initial: 'before',
    states: {
      before: {
        invoke: {
          id: 'before',
          src: 'before',
          input: ({ context }) => ({ executionId: context.executionId, step: 1 }),
          onDone: 'waiting',
          onError: 'agentFailed',
        },
      },
      waiting: {
        tags: [WAITING_TAG],
        meta: waitMeta({ accepts: ['answers_received'] }),
        on: {
          answers_received: { target: 'after', actions: assign({ answers: ({ event }) => event.answers }) },
        },
      },
      after: {
        invoke: {
          id: 'after',
          src: 'after',
          input: ({ context }) => ({ executionId: context.executionId, step: 2 }),
          onDone: 'done',
          onError: 'agentFailed',
        },
      },
      done: { type: 'final' },
      agentFailed: { type: 'final', tags: [AGENT_ERROR_TAG] },
    },
  });
  return { id, version: 1, machine, createInput: (input) => workflowInputSchema.parse(input) };
}

/** Resolves with the time `signal` aborted: an agent that runs until its run is stopped. */
export function abortedAt(signal: AbortSignal): Promise<number> {
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(Date.now()), { once: true }),
  );
}

/** Agents for `keys` that record each run and then do `behaviour`. */
export function recordingAgents(
  keys: string[],
  runs: { key: string; executionId: string }[],
  behaviour: (key: string, input: StepInput, signal: AbortSignal) => Promise<unknown> = async () => ({
    ok: true,
  }),
): Record<string, AgentFn<never, unknown>> {
  return Object.fromEntries(
    keys.map((key) => [
      key,
      (async (input: StepInput, ctx) => {
        runs.push({ key, executionId: input.executionId });
        await behaviour(key, input, ctx.signal);
        return { ok: true };
      }) as AgentFn<StepInput, unknown> as AgentFn<never, unknown>,
    ]),
  );
}

export function startBody(graph: string, extra: Record<string, unknown> = {}) {
  return {
    graph,
    tenantId: 'acme',
    ticket: { key: 'T-1', title: 'test' },
    repository: { url: '/nonexistent' },
    ...extra,
  };
}

/**
 * The built-in agents, keyed exactly by the actor keys of the machines (src/machines/agent-io.ts). The host
 * wraps each into the promise actor it provides to the machine: it awaits the step's write-ahead checkpoint,
 * then calls the agent with the ports and an AbortSignal bounded by `AgentTimeout`.
 */
import type { AgentKey } from '../machines/agent-io.js';
import type { AgentFn } from './agent.js';
import type { Agent } from './common.js';
import { implementationAgents } from './implementation.js';
import { planningAgents } from './planning.js';
import { refinementAgents } from './refinement.js';

export type { Agent } from './common.js';

export type BuiltInAgents = { [K in AgentKey]: Agent<K> };

/**
 * Any agent, for code that handles them generically (the host's wrapper): its input is opaque here, and the
 * machine that invokes it by key guarantees the shape.
 */
export type AnyAgent = AgentFn<never, unknown>;

export const builtInAgents: BuiltInAgents = {
  ...refinementAgents,
  ...planningAgents,
  ...implementationAgents,
};

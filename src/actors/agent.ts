/**
 * An agent is one step of a graph: a plain async function of its (small) input and an {@link AgentContext}.
 * The host wraps each into the XState promise actor the machine invokes by key, after the step's
 * write-ahead checkpoint is committed, with `AgentTimeout` and cancellation folded into `signal`.
 */
import type { Context } from '@opentelemetry/api';
import type { Ports } from './ports.js';

export interface AgentLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface AgentContext {
  ports: Ports;
  /** aborted at `AgentTimeout`, on cancellation, on shutdown and when the lease is lost */
  signal: AbortSignal;
  log: AgentLogger;
  /** the step's trace context (its `agent <name>` span), for the spans a port makes; absent when not traced */
  trace?: Context | undefined;
}

export type AgentFn<I, O> = (input: I, ctx: AgentContext) => Promise<O>;

/** Idempotency key of an effect: the same execution, step and loop round always make the same key. */
export function idempotencyKey(executionId: string, step: string, round = 0): string {
  return `${executionId}:${step}:${round}`;
}

/**
 * prfactory-worker as a library: host PRFactory's agent graphs inside your own process (the "same process"
 * deployment of an API that hosts the worker).
 *
 * @example
 * ```ts
 * import { createWorker } from 'prfactory-worker';
 *
 * // create: configuration (defaults: embedded PGlite in ./data, in-process bus), built-in graphs and adapters
 * const worker = await createWorker({ config: { Database: { Url: process.env.DATABASE_URL } } });
 * // start: migrate, claim and run executions
 * await worker.start();
 * // use: the same service the HTTP API and NATS intake call
 * const { executionId } = await worker.service.start(
 *   { graph: 'prfactory', tenantId: 'acme', ticket: { key: 'PROJ-1', title: 'Add a greeting' },
 *     repository: { url: '/srv/git/app.git' } },
 *   { source: 'library' },
 * );
 * // drain and stop: running steps finish (up to GracefulShutdownTimeoutSeconds), leases are handed back
 * await worker.stop();
 * ```
 *
 * Tests and benchmarks register graphs of their own and agents that do nothing or fail on cue:
 * `createWorker({ graphs: [myGraph], agents: { myStep: async () => ({}) } })`.
 */
export type { AgentContext, AgentFn } from './actors/agent.js';
export { idempotencyKey } from './actors/agent.js';
export type { Ports } from './actors/ports.js';
export { type Config, ConfigError, type ConfigInput, loadConfig, parseConfig } from './config.js';
export { type Bus, InProcessBus } from './host/bus.js';
export * from './host/errors.js';
export type { LifecycleEvent, RejectedInput } from './host/events.js';
export type { CancelRequest, ResumeRequest, RetryRequest, StartRequest } from './host/messages.js';
export type {
  ExecutionDetails,
  ExecutionService,
  ExecutionStats,
  ExecutionSummary,
  LeaseHolder,
  StatusCounts,
  WorkersView,
} from './host/service.js';
export { agentSlot, type GraphDefinition, type PersistedSnapshot } from './machines/graph.js';
export { builtInGraphs, GraphRegistry } from './machines/registry.js';
export type { GraphStateTree, StateTransition, StateTreeNode } from './machines/stateTree.js';
export { type NatsNames, natsNames } from './transport/nats/names.js';
export {
  type InputMessage,
  type InputPublisherOptions,
  type PublishedInput,
  publishInput,
} from './transport/nats/publish.js';
export type { NatsTransportOptions } from './transport/nats/transport.js';
export { createWorker, type Worker, type WorkerOptions } from './worker.js';

/** The machines' public surface: graphs, registry, the agents' contract and the shapes the host reads. */
export * from './agent-io.js';
export * from './domain.js';
export * from './events.js';
export type { WorkflowContext } from './fragments/context.js';
export { MAX_PLAN_REJECTIONS } from './fragments/planning.js';
export * from './graph.js';
export { implementationGraph, implementationInputSchema, implementationMachine } from './implementation.js';
export { planningV1ToV2, renameState } from './migrations.js';
export * from './naming.js';
export { planningGraph, planningMachine } from './planning.js';
export { prfactoryGraph, prfactoryMachine } from './prfactory.js';
export { refinementGraph, refinementMachine } from './refinement.js';
export { builtInGraphs, GraphRegistry } from './registry.js';
export { planningGraphV1 } from './v1/planning.js';
export { prfactoryGraphV1 } from './v1/prfactory.js';

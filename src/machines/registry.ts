/**
 * The graph registry: the only way the host reaches a machine. Graphs are kept by id and version, so a worker
 * can restore a checkpoint of any version it knows and start new executions on the latest.
 */
import type { GraphDefinition } from './graph.js';
import { implementationGraph } from './implementation.js';
import { planningGraph } from './planning.js';
import { prfactoryGraph } from './prfactory.js';
import { refinementGraph } from './refinement.js';
import { planningGraphV1 } from './v1/planning.js';
import { prfactoryGraphV1 } from './v1/prfactory.js';
import { waitProblem } from './waits.js';

/**
 * The four graphs (docs/graphs.md), every version this code knows. The latest of each runs new executions and
 * restores every checkpoint (older ones through its `migrations`); the older versions stay registered so that
 * `getVersion` can name what a checkpoint of that version may hold (fixtures, tests, tools).
 *
 * | graph | versions |
 * | --- | --- |
 * | refinement | 1 |
 * | planning | 1, 2 (plan generation split into draft and review) |
 * | implementation | 1 |
 * | prfactory | 1, 2 (with planning 2) |
 */
export const builtInGraphs: readonly GraphDefinition[] = [
  refinementGraph,
  planningGraphV1,
  planningGraph,
  implementationGraph,
  prfactoryGraphV1,
  prfactoryGraph,
];

/**
 * Graphs by id and version.
 *
 * @example
 * ```ts
 * const registry = new GraphRegistry(builtInGraphs);
 * const { machine, version } = registry.get('prfactory')!; // the latest version
 * ```
 */
export class GraphRegistry {
  readonly #graphs = new Map<string, Map<number, GraphDefinition>>();

  constructor(graphs: Iterable<GraphDefinition> = []) {
    for (const graph of graphs) this.register(graph);
  }

  /** Adds a graph version. Registering an id and version twice is a wiring bug, so it throws. */
  register(def: GraphDefinition): this {
    if (!/^[a-z][a-z0-9_-]*$/.test(def.id)) throw new Error(`invalid graph id "${def.id}"`);
    if (!Number.isInteger(def.version) || def.version < 1) {
      throw new Error(`graph "${def.id}": version must be a positive integer, got ${def.version}`);
    }
    const waits = waitProblem(def.machine);
    if (waits) throw new Error(`graph "${def.id}" version ${def.version}: ${waits}`);
    const versions = this.#graphs.get(def.id) ?? new Map<number, GraphDefinition>();
    if (versions.has(def.version))
      throw new Error(`graph "${def.id}" version ${def.version} is already registered`);
    versions.set(def.version, def);
    this.#graphs.set(def.id, versions);
    return this;
  }

  /** The latest version of graph `id`, or undefined when unknown. */
  get(id: string): GraphDefinition | undefined {
    const versions = this.#graphs.get(id);
    if (!versions) return undefined;
    return versions.get(Math.max(...versions.keys()));
  }

  /** Exactly version `version` of graph `id` (a checkpoint is restored with the version that wrote it). */
  getVersion(id: string, version: number): GraphDefinition | undefined {
    return this.#graphs.get(id)?.get(version);
  }

  has(id: string): boolean {
    return this.#graphs.has(id);
  }

  /** The latest version of every graph, by id. */
  list(): GraphDefinition[] {
    return [...this.#graphs.keys()].sort().flatMap((id) => this.get(id) ?? []);
  }

  /** Every registered version of graph `id`, oldest first. */
  versions(id: string): number[] {
    return [...(this.#graphs.get(id)?.keys() ?? [])].sort((a, b) => a - b);
  }
}

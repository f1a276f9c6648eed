/**
 * The graphs' state trees (`GET /v1/graphs`), read once per page load: they change only when the worker is
 * deployed again, and the diagram and the Graph filter both need them.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import type { GraphView } from './types';

export type GraphsState = { graphs: GraphView[] } | { error: unknown } | undefined;

let loaded: Promise<GraphView[]> | undefined;

function loadGraphs(): Promise<GraphView[]> {
  loaded ??= api.graphs().catch((error: unknown) => {
    loaded = undefined; // a later page may try again
    throw error;
  });
  return loaded;
}

/** undefined while loading */
export function useGraphs(): GraphsState {
  const [state, setState] = useState<GraphsState>(undefined);
  useEffect(() => {
    let live = true;
    loadGraphs().then(
      (graphs) => live && setState({ graphs }),
      (error: unknown) => live && setState({ error }),
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}

/** The tree of `graph` at `version`; another version of it (newest first) when that one is not served. */
export function graphFor(graphs: GraphView[], graph: string, version: number): GraphView | undefined {
  const same = graphs.filter((g) => g.id === graph).sort((a, b) => b.version - a.version);
  return same.find((g) => g.version === version) ?? same[0];
}

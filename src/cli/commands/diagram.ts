/**
 * `prfactory-worker diagram [graph] [--out DIR]`: writes each graph's diagrams — `<graph>.mmd` (Mermaid state
 * diagram) and `<graph>.svg` (Graphviz, rendered in WebAssembly by @viz-js/viz: no browser) — and, when every
 * graph is drawn, `README.md` showing them all. `npm run diagrams` keeps `visualizations/` current; a test
 * fails when the committed files differ from what this generates.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { instance } from '@viz-js/viz';
import type { Command } from 'commander';
import { toDot } from '../../machines/diagrams/dot.js';
import { toMermaid } from '../../machines/diagrams/mermaid.js';
import { diagramsReadme } from '../../machines/diagrams/readme.js';
import type { GraphDefinition } from '../../machines/graph.js';
import { builtInGraphs, GraphRegistry } from '../../machines/registry.js';
import { CliRuntimeError, CliUsageError } from '../errors.js';
import type { CliIo } from '../io.js';

export interface DiagramFile {
  /** the file's name inside the output folder */
  name: string;
  content: string;
}

/**
 * The diagram files of `graphs` (the latest version of each), plus the README when `readme` is set. Pure but for
 * Graphviz: the same graphs always give the same bytes.
 */
export async function generateDiagrams(
  graphs: readonly GraphDefinition[],
  { readme }: { readme: boolean },
): Promise<DiagramFile[]> {
  const viz = await instance();
  const files: DiagramFile[] = [];
  for (const def of graphs) {
    files.push({ name: `${def.id}.mmd`, content: toMermaid(def) });
    const result = viz.render(toDot(def), { format: 'svg', engine: 'dot' });
    if (result.status !== 'success') {
      throw new CliRuntimeError(
        `graph ${def.id}: Graphviz failed: ${result.errors.map((e) => e.message).join('; ')}`,
      );
    }
    files.push({ name: `${def.id}.svg`, content: result.output });
  }
  if (readme) files.push({ name: 'README.md', content: diagramsReadme(graphs, toMermaid) });
  return files;
}

/** The graphs the diagrams show: the latest version of every built-in graph, by id. */
export function diagramGraphs(): GraphDefinition[] {
  return new GraphRegistry(builtInGraphs).list();
}

export function registerDiagramCommand(program: Command, io: CliIo): Command {
  return program
    .command('diagram')
    .description("write the graphs' diagrams: <graph>.mmd (Mermaid) and <graph>.svg, and README.md for all")
    .argument('[graph]', 'draw only this graph (default: every graph, and the README)')
    .option('--out <dir>', 'folder to write to', 'visualizations')
    .action(async (graph: string | undefined, options: { out: string }) => {
      const all = diagramGraphs();
      const graphs = graph === undefined ? all : all.filter((g) => g.id === graph);
      if (graphs.length === 0) {
        throw new CliUsageError(
          `unknown graph "${graph}" (known: ${all.map((g) => g.id).join(', ')})`,
          '[graph]',
        );
      }
      const out = path.resolve(io.cwd ?? process.cwd(), options.out);
      mkdirSync(out, { recursive: true });
      for (const file of await generateDiagrams(graphs, { readme: graph === undefined })) {
        writeFileSync(path.join(out, file.name), file.content);
        io.stdout.write(`${path.join(options.out, file.name)}\n`);
      }
    });
}

/** `visualizations/README.md`: every graph's diagram, the SVG and the Mermaid source, with a legend. */
import type { GraphDefinition } from '../graph.js';

export function diagramsReadme(
  graphs: readonly GraphDefinition[],
  mermaid: (def: GraphDefinition) => string,
): string {
  const lines = [
    '# Agent graphs',
    '',
    'Generated from the machines in `src/machines` by `prfactory-worker diagram` (`npm run diagrams`): do not edit.',
    'A test fails when these files differ from what the code generates. Each graph is drawn twice: an SVG rendered by',
    'Graphviz (`<graph>.svg`) and a Mermaid state diagram (`<graph>.mmd`, shown inline below where Mermaid renders).',
    '',
    'How to read them: a box is a state; `runs X` is the agent it runs. Yellow (⏸ in Mermaid) marks a state that',
    'waits for a person — the execution is `suspended` there — with the resume events it takes. A double border (or',
    '`[*]` in Mermaid) marks a final state: green, the execution completes; red, it fails. `done.actor.X` /',
    '`error.actor.X`: step X finished / failed; `onDone`: every region (or the final state) of a compound state was',
    'reached; `[guard]`: taken only when the guard holds; dashed boxes are regions that run in parallel; a dashed',
    'arrow is an `always` transition.',
    '',
    '| graph | version | diagram | Mermaid |',
    '| --- | --- | --- | --- |',
    ...graphs.map(
      (g) => `| \`${g.id}\` | ${g.version} | [${g.id}.svg](${g.id}.svg) | [${g.id}.mmd](${g.id}.mmd) |`,
    ),
  ];
  for (const g of graphs) {
    lines.push(
      '',
      `## ${g.id} (version ${g.version})`,
      '',
      `![${g.id}](${g.id}.svg)`,
      '',
      '<details><summary>Mermaid</summary>',
      '',
      '```mermaid',
      mermaid(g).trimEnd(),
      '```',
      '',
      '</details>',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The diagrams in `visualizations/` are the ones the code draws today (run `npm run diagrams` after changing a
 * graph), they show what the issue asks of them, and `prfactory-worker diagram` writes them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  diagramGraphs,
  generateDiagrams,
  registerDiagramCommand,
} from '../../../src/cli/commands/diagram.js';
import { createProgram, runProgram } from '../../../src/cli/program.js';
import { allStates, describeGraph } from '../../../src/machines/diagrams/describe.js';
import { toDot } from '../../../src/machines/diagrams/dot.js';
import { toMermaid } from '../../../src/machines/diagrams/mermaid.js';
import { planningGraph } from '../../../src/machines/planning.js';
import { prfactoryGraph } from '../../../src/machines/prfactory.js';
import { refinementGraph } from '../../../src/machines/refinement.js';

const committed = path.join(import.meta.dirname, '..', '..', '..', 'visualizations');

describe('visualizations/', () => {
  it('holds exactly the diagrams the graphs make today (npm run diagrams rewrites them)', async () => {
    const files = await generateDiagrams(diagramGraphs(), { readme: true });
    expect(readdirSync(committed).sort()).toEqual(files.map((f) => f.name).sort());
    for (const file of files) {
      const onDisk = readFileSync(path.join(committed, file.name), 'utf8');
      expect(onDisk === file.content, `visualizations/${file.name} is stale: run \`npm run diagrams\``).toBe(
        true,
      );
    }
  });

  it('draws every state, every transition with its event and guard, waits and endings (Mermaid)', () => {
    const planning = toMermaid(planningGraph);
    expect(planning).toContain('title: planning (version 2)');
    expect(planning).toContain('[*] --> draftPlan');
    expect(planning).toContain('draftPlan : runs generatePlan (as draftPlan)');
    expect(planning).toContain(
      'awaitingApproval --> rejectedTooOften : plan_rejected [rejectionLimitReached]',
    );
    expect(planning).toContain('awaitingApproval --> draftPlan : plan_rejected');
    expect(planning).toContain('awaitingApproval : ⏸ waits for plan_approved, plan_rejected');
    expect(planning).toContain('publishPlan --> awaitingApproval : onDone');
    expect(planning).toContain('rejectedTooOften : final · the execution fails');
    expect(planning).toMatch(
      /state publishPlan \{\n\s+state commitPlan \{[\s\S]*\n\s+--\n\s+state postPlan \{/,
    );
    const refinement = toMermaid(refinementGraph);
    expect(refinement).toContain(
      'generateQuestions --> processAnswers : done.actor.generateQuestions [noQuestions]',
    );
    const prfactory = toMermaid(prfactoryGraph);
    expect(prfactory).toContain('refinement --> planning : onDone');
    expect(prfactory).toContain(
      'awaitingApproval --> rejectedTooOften : plan_rejected [rejectionLimitReached]',
    );
    expect(prfactory).toContain(
      'planning_publishPlan_commitPlan_running --> agentFailed : error.actor.commitPlan',
    );
    // every state and every transition of every graph appears, in both drawings
    for (const def of diagramGraphs()) {
      const [mermaid, dot] = [toMermaid(def), toDot(def)];
      const description = describeGraph(def);
      for (const state of allStates(description.root)) {
        expect(mermaid).toMatch(new RegExp(`\\b${state.key}\\b`));
        expect(dot).toContain(state.children.length > 0 ? `"cluster_${state.path}"` : `"${state.path}"`);
      }
      const edges = dot.split('\n').filter((line) => line.includes(' -> ') && line.includes('label='));
      expect(edges).toHaveLength(description.transitions.length);
    }
  });

  it('`prfactory-worker diagram` writes .mmd and .svg (and the README for all graphs); an unknown graph exits 2', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'prf-diagrams-'));
    try {
      const run = async (args: string[]) => {
        const io = {
          stdout: {
            text: '',
            write(t: string) {
              this.text += t;
            },
          },
          stderr: {
            text: '',
            write(t: string) {
              this.text += t;
            },
          },
          env: {},
          cwd: out,
        };
        const program = createProgram(io);
        registerDiagramCommand(program, io);
        const code = await runProgram(program, args, io);
        return { code, stdout: io.stdout.text, stderr: io.stderr.text };
      };
      expect(await run(['diagram', 'planning', '--out', 'one'])).toEqual({
        code: 0,
        stdout: 'one/planning.mmd\none/planning.svg\n',
        stderr: '',
      });
      const svg = readFileSync(path.join(out, 'one', 'planning.svg'), 'utf8');
      expect(svg).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*awaitingApproval[\s\S]*<\/svg>\s*$/);
      expect((await run(['diagram', '--out', 'all'])).code).toBe(0);
      expect(readdirSync(path.join(out, 'all')).sort()).toEqual(readdirSync(committed).sort());
      const unknown = await run(['diagram', 'nope']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain(
        'unknown graph "nope" (known: implementation, planning, prfactory, refinement)',
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/**
 * The one execution every row of the scale fill is cloned from: a `gate` execution started through intake and
 * run by a real worker (in the bench process) to its wait for `answers_received`, so that its checkpoint is a
 * snapshot the worker restores and resumes. `gate`'s own snapshot is ~150 bytes where a `prfactory` one carries
 * the ticket, the plan and agents' outputs: its context gets a `notes` string of hex (which pglz cannot shrink
 * much, as it cannot shrink those outputs) that brings each checkpoint's snapshot to `snapshotBytes` (~4 KB, the
 * fixed, realistic size the issue asks for). The machine restores it as it is: a context is the graph's own.
 */
import { createHash } from 'node:crypto';
import { createWorker } from '../src/worker.js';
import { benchAgents, benchGraphs, GATE_GRAPH } from '../test/support/benchGraphs.js';
import { startBody } from '../test/support/testGraphs.js';
import { meta, testConfig } from '../test/support/worker.js';
import type { BenchSchema } from './benchSchema.js';

export interface ScaleTemplate {
  executionId: string;
  tenantId: string;
  /** the latest checkpoint's snapshot, as PostgreSQL stores it (jsonb text) */
  snapshotBytes: number;
}

/** The tenant of the template, hence of every resumable clone: the resumes of resumeLatency.ts say `acme`. */
export const TEMPLATE_TENANT = 'acme';

/** Deterministic hex text of `chars` characters: a sha256 chain. */
function hexText(chars: number): string {
  let out = '';
  let block = 'scale-bench';
  while (out.length < chars) {
    block = createHash('sha256').update(block).digest('hex');
    out += block;
  }
  return out.slice(0, chars);
}

export async function createTemplate(target: BenchSchema, snapshotBytes: number): Promise<ScaleTemplate> {
  const runner = await createWorker({
    config: testConfig(target.schema, target.workspaces, { Database: { PoolSize: 4 } }),
    graphs: benchGraphs(),
    agents: benchAgents(),
  });
  await runner.start();
  try {
    const body = startBody(GATE_GRAPH, {
      tenantId: TEMPLATE_TENANT,
      ticket: {
        key: 'ACME-1',
        title: 'Greet people by their preferred name',
        description: 'A ticket of the scale benchmark.',
      },
      repository: { url: 'https://git.example.com/acme/greeter.git' },
    });
    const { executionId } = await runner.service.start(body, meta);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await target.pool.query<{ status: string }>(
        'SELECT status FROM executions WHERE id = $1',
        [executionId],
      );
      if (rows[0]?.status === 'suspended') break;
      if (Date.now() > deadline)
        throw new Error(`the template execution did not suspend: ${rows[0]?.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const { rows: sized } = await target.pool.query<{ bytes: number }>(
      `SELECT octet_length(snapshot::text)::int AS bytes FROM checkpoints WHERE execution_id = $1
       ORDER BY seq DESC LIMIT 1`,
      [executionId],
    );
    const pad = Math.max(0, snapshotBytes - (sized[0]?.bytes ?? 0) - ', "notes": ""'.length);
    await target.pool.query(
      `UPDATE checkpoints SET snapshot = jsonb_set(snapshot, '{context,notes}', to_jsonb($2::text))
       WHERE execution_id = $1 AND snapshot IS NOT NULL`,
      [executionId, hexText(pad)],
    );
    const { rows } = await target.pool.query<{ bytes: number }>(
      `SELECT octet_length(snapshot::text)::int AS bytes FROM checkpoints WHERE execution_id = $1
       ORDER BY seq DESC LIMIT 1`,
      [executionId],
    );
    return { executionId, tenantId: TEMPLATE_TENANT, snapshotBytes: rows[0]?.bytes ?? 0 };
  } finally {
    await runner.stop();
  }
}

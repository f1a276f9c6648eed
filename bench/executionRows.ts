/**
 * A history of executions written straight into `executions`, for measurements that read them (the dashboard's
 * list): `count` rows in one `INSERT … SELECT FROM unnest(…)` statement, a second for 10,000 where running them
 * through a worker would take minutes and measure nothing the reader cares about.
 *
 * Every row is one a worker could have left behind — valid for every constraint of migration 0001 and for the
 * list's reads — and none is one a worker would pick up: `completed`, `failed` and `cancelled` are ended, and a
 * `suspended` row waits for a resume nobody sends. No `pending`, `retrying` or `running` row, which a worker
 * would claim and run (they have no checkpoint to run from). Deterministic: the same count gives the same rows,
 * ids included (an md5 of the row's number), one every four minutes back from now, newest last.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

const TENANTS = [
  { id: 'acme', project: 'GREET' },
  { id: 'globex', project: 'GLX' },
  { id: 'initech', project: 'INI' },
  { id: 'umbrella', project: 'UMB' },
  { id: 'hooli', project: 'HOOLI' },
];
const TITLES = [
  'Greet people by their preferred name',
  'Say goodbye as well as hello',
  'Trim whitespace around names',
  'Greet a list of people at once',
  'Capitalise names before greeting',
  'Greet in Spanish when the locale is es',
  'Log every greeting at debug level',
  'Reject empty names with a clear error',
];

interface GraphStates {
  graph: string;
  version: number;
  done: string;
  /** where it waits, with what it accepts there */
  waits: { state: string; waitingFor: string[] }[];
  /** the step that failed */
  failedIn: string;
}

const ANSWERS = ['answers_received'];
const APPROVAL = ['plan_approved', 'plan_rejected'];
/** The built-in graphs at their current versions (visualizations/README.md): of 100 rows, 75 · 10 · 10 · 5. */
const GRAPHS: { below: number; states: GraphStates }[] = [
  {
    below: 75,
    states: {
      graph: 'prfactory',
      version: 2,
      done: 'done',
      waits: [
        { state: 'refinement.awaitingAnswers', waitingFor: ANSWERS },
        { state: 'planning.awaitingApproval', waitingFor: APPROVAL },
      ],
      failedIn: 'implementation.implement',
    },
  },
  {
    below: 85,
    states: {
      graph: 'refinement',
      version: 1,
      done: 'done',
      waits: [{ state: 'awaitingAnswers', waitingFor: ANSWERS }],
      failedIn: 'analyseCodebase',
    },
  },
  {
    below: 95,
    states: {
      graph: 'planning',
      version: 2,
      done: 'done',
      waits: [{ state: 'awaitingApproval', waitingFor: APPROVAL }],
      failedIn: 'draftPlan',
    },
  },
  {
    below: 100,
    states: { graph: 'implementation', version: 1, done: 'done', waits: [], failedIn: 'implement' },
  },
];
/** Of 100 rows: 70 completed, 12 suspended, 10 failed, 8 cancelled. */
const STATUSES: { below: number; status: 'completed' | 'suspended' | 'failed' | 'cancelled' }[] = [
  { below: 70, status: 'completed' },
  { below: 82, status: 'suspended' },
  { below: 92, status: 'failed' },
  { below: 100, status: 'cancelled' },
];

const ROW_EVERY_MS = 4 * 60_000;

/** An id from the row's number: a UUID's shape (version 4, variant 1), the same on every run. */
function idOf(i: number): string {
  const hex = createHash('md5').update(`ui-bench-${i}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Writes `count` executions into the `executions` table of the pool's search_path; returns their ids. */
export async function insertExecutionRows(pool: pg.Pool, count: number): Promise<string[]> {
  const columns = {
    id: [] as string[],
    graph: [] as string[],
    graphVersion: [] as number[],
    tenantId: [] as string[],
    ticket: [] as string[],
    repository: [] as string[],
    requestHash: [] as string[],
    status: [] as string[],
    state: [] as string[],
    waitingFor: [] as string[],
    attempts: [] as number[],
    lastError: [] as (string | null)[],
    startedAt: [] as Date[],
    finishedAt: [] as (Date | null)[],
    createdAt: [] as Date[],
    updatedAt: [] as Date[],
  };
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    // Spread without randomness: multiplying by primes walks every residue, so shares hold in any window.
    const statusRoll = (i * 37) % 100;
    const graphRoll = (i * 53 + 11) % 100;
    const tenant = TENANTS[(i * 7) % TENANTS.length]!;
    const { states } = GRAPHS.find((g) => graphRoll < g.below)!;
    let status = STATUSES.find((s) => statusRoll < s.below)!.status;
    if (status === 'suspended' && states.waits.length === 0) status = 'completed';
    const wait = states.waits[i % Math.max(1, states.waits.length)];
    const createdAt = new Date(now - (count - i) * ROW_EVERY_MS);
    const updatedAt = new Date(createdAt.getTime() + ((i * 13) % 180) * 1000 + 5000);
    const id = idOf(i);
    const ticket = {
      key: `${tenant.project}-${1000 + i}`,
      system: 'local',
      title: TITLES[i % TITLES.length],
      description: 'A ticket of the dashboard benchmark.',
    };
    const repository = { url: `https://git.example.com/${tenant.id}/greeter.git`, defaultBranch: 'main' };
    columns.id.push(id);
    columns.graph.push(states.graph);
    columns.graphVersion.push(states.version);
    columns.tenantId.push(tenant.id);
    columns.ticket.push(JSON.stringify(ticket));
    columns.repository.push(JSON.stringify(repository));
    columns.requestHash.push(createHash('sha256').update(id).digest('hex'));
    columns.status.push(status);
    columns.state.push(
      status === 'completed'
        ? states.done
        : status === 'failed'
          ? states.failedIn
          : (wait?.state ?? states.failedIn),
    );
    columns.waitingFor.push(JSON.stringify(status === 'suspended' ? (wait?.waitingFor ?? []) : []));
    columns.attempts.push(status === 'failed' ? 4 : 0);
    columns.lastError.push(
      status === 'failed'
        ? `agent ${states.failedIn.split('.').at(-1)} failed: the model answered 503 (after 4 attempts)`
        : status === 'cancelled'
          ? 'cancelled: no longer needed'
          : null,
    );
    columns.startedAt.push(new Date(createdAt.getTime() + 200));
    columns.finishedAt.push(status === 'suspended' ? null : updatedAt);
    columns.createdAt.push(createdAt);
    columns.updatedAt.push(updatedAt);
  }
  await pool.query(
    `INSERT INTO executions (id, graph, graph_version, tenant_id, ticket, repository, request_hash, status, state,
       waiting_for, attempts, last_error, started_at, finished_at, created_at, updated_at)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::jsonb[], $6::jsonb[], $7::text[],
       $8::text[], $9::text[], $10::jsonb[], $11::int[], $12::text[], $13::timestamptz[], $14::timestamptz[],
       $15::timestamptz[], $16::timestamptz[])`,
    Object.values(columns),
  );
  return columns.id;
}

/**
 * The executions the screenshots show, made through the HTTP API as a client makes them (start, answer, approve,
 * reject, cancel) on the offline model, against a sample repository like `prfactory-worker demo`'s: one waiting
 * for answers, one waiting for its plan's approval in round 2, one completed with its pull request, one failed,
 * one cancelled, one running. The failed and the running one come from their tenants' coding agents
 * ({@link screenshotTenants}): one exits 1, the other takes ten minutes, so its worker holds a lease while the
 * Workers page is shot.
 *
 * The ids are fixed so that a page names the same execution every time the screenshots are made.
 */
import { z } from 'zod';
import type { WorkerClient } from '../src/cli/client.js';
import type { ConfigInput } from '../src/config.js';

/** The executions seeded, by what each shows. */
export interface ScreenshotExecutions {
  waitingForAnswers: string;
  waitingForApproval: string;
  completed: string;
  failed: string;
  cancelled: string;
  running: string;
}

const ids = {
  refined: '71140038-4117-43ef-ac9f-2f1b95d43364',
  completed: 'c2705625-d8d5-4113-90d9-2f0167bd3840',
  failed: '61065f79-bae0-41cb-aeb2-5063943be2a1',
  cancelled: '280aa4db-6c6a-4a55-90d2-1cbe1b0624cb',
  running: '20261473-5742-402f-ba97-fe2d64fef127',
  waitingForApproval: '006f0c81-1ca7-4eb7-b035-8f30e0b92656',
  waitingForAnswers: 'edd22ff7-f0f2-4d8d-8dad-8c4728b42959',
} as const;

/**
 * The tenants of the screenshot worker: `acme` on the defaults (the offline model writes the change), `globex`
 * whose coding agent runs for ten minutes, `initech` whose coding agent fails (its tests fail), once per attempt.
 */
export function screenshotTenants(): NonNullable<ConfigInput['Tenants']> {
  return {
    default: { AutoImplementAfterPlanApproval: true },
    globex: { CodingAgent: { Preset: 'command', Command: ['sleep', '600'] } },
    initech: {
      CodingAgent: {
        Preset: 'command',
        Command: ['sh', '-c', 'echo "npm test: 2 of 14 tests failed (test/greet.test.js)" >&2; exit 1'],
      },
    },
  };
}

/** The part of `GET /v1/executions/:id` the seeding waits on. */
const detailsSchema = z.object({
  status: z.string(),
  state: z.string().nullable(),
  waitingFor: z.array(z.string()),
  questions: z.array(z.object({ id: z.string(), text: z.string() })).optional(),
  pullRequest: z.object({ url: z.string() }).optional(),
  lastError: z.string().optional(),
});
type Details = z.output<typeof detailsSchema>;

const SETTLE_TIMEOUT_MS = 60_000;

export async function seedScreenshotExecutions(
  client: WorkerClient,
  origin: string,
  log: (line: string) => void,
): Promise<ScreenshotExecutions> {
  const details = async (id: string) => detailsSchema.parse(await client.get(id));
  /** Polls until the execution is where `reached` says; throws with where it is after the timeout. */
  const settle = async (id: string, what: string, reached: (d: Details) => boolean): Promise<Details> => {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let last = await details(id);
    while (!reached(last)) {
      if (Date.now() > deadline || (last.status === 'failed' && what !== 'failed')) {
        throw new Error(
          `execution ${id} did not reach "${what}": ${last.status} in ${last.state ?? 'no state'}${last.lastError ? ` (${last.lastError})` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
      last = await details(id);
    }
    return last;
  };
  const waitsFor = (type: string) => (d: Details) => d.status === 'suspended' && d.waitingFor.includes(type);

  const start = async (
    executionId: string,
    graph: string,
    tenantId: string,
    ticket: { key: string; title: string; description: string },
  ) => {
    await client.start({
      executionId,
      graph,
      tenantId,
      ticket: { system: 'local', ...ticket },
      repository: { url: origin, defaultBranch: 'main' },
    });
    log(`started ${ticket.key} (${graph}, tenant ${tenantId})`);
  };
  const answer = async (executionId: string, tenantId: string, replies: string[]) => {
    const { questions = [] } = await settle(executionId, 'waiting for answers', waitsFor('answers_received'));
    const answers = Object.fromEntries(
      questions.map((q, i) => [q.id, replies[i] ?? 'No preference: whatever keeps the code simple.']),
    );
    await client.resume(executionId, {
      eventId: `${executionId}:answers`,
      tenantId,
      type: 'answers_received',
      answers,
    });
  };
  const approve = async (executionId: string, tenantId: string, round = 1) => {
    await settle(executionId, 'waiting for approval', waitsFor('plan_approved'));
    await client.resume(executionId, {
      eventId: `${executionId}:approval:${round}`,
      tenantId,
      type: 'plan_approved',
      approvedBy: 'ana',
      comment: 'Looks good.',
    });
  };

  await start(ids.refined, 'refinement', 'acme', {
    key: 'GREET-7',
    title: 'Say goodbye as well as hello',
    description: 'Add `farewell(name)` next to `greet(name)`.',
  });
  await answer(ids.refined, 'acme', ['"Goodbye, <name>!"', 'Yes, export it from src/greet.js.']);
  await settle(ids.refined, 'completed', (d) => d.status === 'completed');

  await start(ids.completed, 'prfactory', 'acme', {
    key: 'GREET-9',
    title: 'Greet in upper case when asked to shout',
    description: 'greet(name, { shout: true }) should return the greeting in upper case.',
  });
  await answer(ids.completed, 'acme', [
    'An options object: greet(name, { shout: true }).',
    'greet(name) without options must keep working as it does.',
  ]);
  await approve(ids.completed, 'acme');
  const completed = await settle(ids.completed, 'completed', (d) => d.status === 'completed');
  if (!completed.pullRequest) throw new Error(`execution ${ids.completed} completed without a pull request`);

  log('INI-88 fails on purpose (its tenant’s coding agent exits 1): the worker logs that as an error');
  await start(ids.failed, 'prfactory', 'initech', {
    key: 'INI-88',
    title: 'Greet in Spanish when the locale is es',
    description: 'greet(name, "es") returns "¡Hola, <name>!".',
  });
  await answer(ids.failed, 'initech', ['A second argument, the locale.', 'Only es for now.']);
  await approve(ids.failed, 'initech');
  await settle(ids.failed, 'failed', (d) => d.status === 'failed');

  await start(ids.cancelled, 'prfactory', 'globex', {
    key: 'GLX-305',
    title: 'Trim whitespace around names',
    description: 'greet("  Ana ") should say "Hello, Ana!".',
  });
  await settle(ids.cancelled, 'waiting for answers', waitsFor('answers_received'));
  await client.cancel(ids.cancelled, { tenantId: 'globex', reason: 'Duplicate of GLX-301.' });
  await settle(ids.cancelled, 'cancelled', (d) => d.status === 'cancelled');

  await start(ids.running, 'prfactory', 'globex', {
    key: 'GLX-318',
    title: 'Greet a list of people at once',
    description: 'greet(["Ana", "Bo"]) should return "Hello, Ana and Bo!".',
  });
  await answer(ids.running, 'globex', [
    'Join with commas and a final "and".',
    'An empty list says "Hello!".',
  ]);
  await approve(ids.running, 'globex');
  await settle(
    ids.running,
    'implementing',
    (d) => d.status === 'running' && d.state === 'implementation.implement',
  );

  // Round 2 of its plan: the first was rejected with a reason, so its history and comments tell that story.
  await start(ids.waitingForApproval, 'prfactory', 'acme', {
    key: 'GREET-12',
    title: 'Greet people by their preferred name',
    description: 'greet() should accept an optional nickname and prefer it over the full name.',
  });
  await answer(ids.waitingForApproval, 'acme', [
    'greet(name, nickname) says "Hello, <nickname>!" when a nickname is given.',
    'The one-argument greet(name) must keep working as it does.',
  ]);
  await settle(ids.waitingForApproval, 'waiting for approval', waitsFor('plan_rejected'));
  await client.resume(ids.waitingForApproval, {
    eventId: `${ids.waitingForApproval}:rejection:1`,
    tenantId: 'acme',
    type: 'plan_rejected',
    rejectedBy: 'bo',
    reason: 'Please cover an empty nickname in the tests too.',
  });
  // The rejection's answer came once the execution left its wait (docs/api.md), so this waits for round 2.
  await settle(ids.waitingForApproval, 'waiting for approval of round 2', waitsFor('plan_approved'));

  await start(ids.waitingForAnswers, 'prfactory', 'acme', {
    key: 'GREET-14',
    title: 'Capitalise names before greeting',
    description: 'greet("ana") should say "Hello, Ana!".',
  });
  await settle(ids.waitingForAnswers, 'waiting for answers', waitsFor('answers_received'));

  return {
    waitingForAnswers: ids.waitingForAnswers,
    waitingForApproval: ids.waitingForApproval,
    completed: ids.completed,
    failed: ids.failed,
    cancelled: ids.cancelled,
    running: ids.running,
  };
}

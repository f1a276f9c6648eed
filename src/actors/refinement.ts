/**
 * The refinement agents: clone, analyse, ask, post the questions, refine with the answers, post the result.
 * Each acts only through `ctx.ports`, passes `ctx.signal` down, and is safe to run twice (comments carry
 * idempotency keys; clone and analysis have no lasting effect).
 */
import type { Question, TicketSystem } from '../machines/domain.js';
import { idempotencyKey } from './agent.js';
import { type Agent, clip, gitOwner, LIMITS, stepCall, ticketRef } from './common.js';
import { repositoryContext } from './repositoryContext.js';

export const cloneRepository: Agent<'cloneRepository'> = async (input, { ports, signal, log }) => {
  signal.throwIfAborted();
  const { baseCommit } = await ports.git.prepare(gitOwner(input), input.repository, signal);
  log.info({ baseCommit }, 'repository prepared');
  return { baseCommit };
};

export const analyseCodebase: Agent<'analyseCodebase'> = async (input, { ports, signal, trace }) => {
  signal.throwIfAborted();
  // Rebuilt from the origin at the pinned commit: the clone of `cloneRepository` may be on another worker.
  const workspace = await ports.git.checkout(
    gitOwner(input),
    input.repository,
    { baseCommit: input.baseCommit },
    signal,
  );
  const repository = await repositoryContext(ports.git, workspace, input.ticket, signal);
  signal.throwIfAborted();
  const { summary } = await ports.llm.analyseCodebase(
    stepCall(input, 'analyseCodebase', trace),
    { ticket: input.ticket, repository },
    signal,
  );
  return { summary: clip(summary, LIMITS.analysis) };
};

/** Ids are what answers are keyed by: make them present and unique (`q1`, `q2`… where the model gave none). */
export function normaliseQuestions(questions: readonly Question[]): Question[] {
  const seen = new Set<string>();
  const out: Question[] = [];
  for (const q of questions) {
    const text = clip(q.text.trim(), LIMITS.questionText);
    if (text === '') continue;
    let id = q.id.trim();
    if (id === '' || seen.has(id)) id = `q${out.length + 1}`;
    while (seen.has(id)) id = `${id}_`;
    seen.add(id);
    out.push({ id, text });
    if (out.length === LIMITS.questions) break;
  }
  return out;
}

export const generateQuestions: Agent<'generateQuestions'> = async (input, { ports, signal, trace }) => {
  signal.throwIfAborted();
  const { questions } = await ports.llm.generateQuestions(
    stepCall(input, 'generateQuestions', trace),
    { ticket: input.ticket, analysis: input.analysis },
    signal,
  );
  return { questions: normaliseQuestions(questions) };
};

/** How a ticket's people answer: a comment in their tracker, or an `answers_received` event for a local ticket. */
export function questionsComment(questions: readonly Question[], system: TicketSystem = 'local'): string {
  const lines = questions.map((q) => `- **${q.id}**: ${q.text}`);
  const how =
    system === 'local'
      ? ['Answer them with an `answers_received` event keyed by question id.']
      : [
          'Answer in a comment, each answer on a line starting with its question id:',
          '',
          '```',
          ...questions.map((q) => `${q.id}: …`),
          '```',
          '',
          'Questions you leave out are recorded as unanswered.',
        ];
  return ['PRFactory needs a few answers before planning this ticket:', '', ...lines, '', ...how].join('\n');
}

export const postQuestions: Agent<'postQuestions'> = async (input, { ports, signal }) => {
  signal.throwIfAborted();
  const { id } = await ports.tickets.postComment(
    ticketRef(input),
    questionsComment(input.questions, input.ticket.system),
    idempotencyKey(input.executionId, 'postQuestions'),
    signal,
  );
  return { commentId: id };
};

export const processAnswers: Agent<'processAnswers'> = async (input, { ports, signal, trace }) => {
  signal.throwIfAborted();
  const { description } = await ports.llm.refineDescription(
    stepCall(input, 'processAnswers', trace),
    { ticket: input.ticket, analysis: input.analysis, questions: input.questions, answers: input.answers },
    signal,
  );
  return { description: clip(description, LIMITS.description) };
};

export const postRefinedDescription: Agent<'postRefinedDescription'> = async (input, { ports, signal }) => {
  signal.throwIfAborted();
  await ports.tickets.updateDescription(ticketRef(input), input.description, signal);
  const body = `PRFactory refined this ticket:\n\n${input.description}`;
  const { id } = await ports.tickets.postComment(
    ticketRef(input),
    body,
    idempotencyKey(input.executionId, 'postRefinedDescription'),
    signal,
  );
  return { commentId: id };
};

export const refinementAgents = {
  cloneRepository,
  analyseCodebase,
  generateQuestions,
  postQuestions,
  processAnswers,
  postRefinedDescription,
};

/**
 * The offline LLM: a deterministic stand-in for demos, tests and machines without a model provider
 * (docs/operations.md). Every text it writes is built only from its inputs — the same request
 * always gets the same answer — and says that no model was called, so nobody mistakes it for a real analysis.
 */
import type { LlmPort } from '../../actors/ports.js';
import type { Ticket } from '../../machines/domain.js';

/** The first line of everything the stand-in writes. */
export const OFFLINE_NOTICE =
  "> Produced offline by PRFactory's deterministic stand-in LLM; no model was called.";
/** The prefix of each question, which is shown on its own (a question is too short for the notice line). */
export const OFFLINE_QUESTION_PREFIX = '[offline stand-in]';

/** `PROJ-123` → `PROJ-123`; anything outside letters, digits, `.`, `_`, `-` becomes `-` (a file name segment). */
export function ticketFileName(ticket: Ticket): string {
  const safe = ticket.key.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^\.+/, '');
  return safe === '' ? 'ticket' : safe;
}

function throwIfAborted(signal: AbortSignal): void {
  // A real provider's call is cancelled by the signal; the stand-in honours it the same way.
  signal.throwIfAborted();
}

function text(...lines: (string | false | undefined)[]): string {
  return `${[OFFLINE_NOTICE, '', ...lines.filter((line): line is string => typeof line === 'string')].join('\n')}\n`;
}

function titleOf(ticket: Ticket): string {
  return ticket.title.trim() === '' ? ticket.key : `${ticket.key}: ${ticket.title.trim()}`;
}

export function createOfflineLlm(): LlmPort {
  return {
    name: 'offline',

    async analyseCodebase(_call, { ticket, repository }, signal) {
      throwIfAborted(signal);
      const { files, readme } = repository;
      const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
      const topLevel = [...new Set(files.map((file) => file.path.split('/')[0] ?? file.path))]
        .sort()
        .slice(0, 10);
      const largest = [...files]
        .sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path))
        .slice(0, 5);
      const readmeLine = readme
        ?.split('\n')
        .find((line) => line.trim() !== '')
        ?.trim();
      const summary = text(
        `Codebase analysis for ${titleOf(ticket)}`,
        '',
        `- ${files.length} tracked files, ${bytes} bytes in total.`,
        `- Top-level entries: ${topLevel.length > 0 ? topLevel.join(', ') : '(none)'}.`,
        `- Largest files: ${largest.length > 0 ? largest.map((f) => `${f.path} (${f.bytes} bytes)`).join(', ') : '(none)'}.`,
        readmeLine !== undefined && `- The README starts with: ${readmeLine}`,
      );
      return { summary };
    },

    async generateQuestions(_call, { ticket }, signal) {
      throwIfAborted(signal);
      const subject = titleOf(ticket);
      const questions = [
        { id: 'q1', text: `${OFFLINE_QUESTION_PREFIX} What is the expected outcome of "${subject}"?` },
        {
          id: 'q2',
          text: `${OFFLINE_QUESTION_PREFIX} Which parts of the codebase must "${subject}" not change?`,
        },
      ];
      // A ticket without a description leaves the most open: one more question, so 2–3 in all.
      if (ticket.description.trim() === '') {
        questions.push({
          id: 'q3',
          text: `${OFFLINE_QUESTION_PREFIX} How will we know "${subject}" is done (acceptance criteria)?`,
        });
      }
      return { questions };
    },

    async refineDescription(_call, { ticket, questions, answers }, signal) {
      throwIfAborted(signal);
      const answered = questions.map(
        (question) =>
          `- ${question.text.replace(OFFLINE_QUESTION_PREFIX, '').trim()}\n  ${answers[question.id] ?? '(no answer)'}`,
      );
      const description = text(
        `Refined description of ${titleOf(ticket)}`,
        '',
        ticket.description.trim() === '' ? '(The ticket had no description.)' : ticket.description.trim(),
        '',
        'Clarifications:',
        ...answered,
      );
      return { description };
    },

    async generatePlan(_call, { ticket, description, round, rejections }, signal) {
      throwIfAborted(signal);
      const firstLine = description
        .split('\n')
        .find((line) => line.trim() !== '' && !line.startsWith('>'))
        ?.trim();
      const markdown = text(
        `# Plan for ${titleOf(ticket)}`,
        '',
        `Planning round ${round}${rejections.length > 0 ? `, after ${rejections.length} rejection(s)` : ''}.`,
        '',
        rejections.length > 0 && '## Addressing the previous rejections',
        ...rejections.map(
          (rejection, index) =>
            `${index + 1}. ${rejection.by} said: "${rejection.reason}" — this round takes it into account.`,
        ),
        rejections.length > 0 && '',
        '## Steps',
        `1. Record the refined description${firstLine !== undefined ? ` ("${firstLine}")` : ''} in docs/prfactory/${ticketFileName(ticket)}.md.`,
        '2. Leave every other file unchanged: the stand-in makes no code change.',
        '3. Open a pull request so a person can review the branch.',
      );
      return { markdown };
    },

    async reviewPlan(_call, _req, signal) {
      throwIfAborted(signal);
      // The stand-in reads nothing: the structural check of the planning step is the whole review.
      return { notes: [] };
    },

    async implement(_call, { ticket, plan, repository }, signal) {
      throwIfAborted(signal);
      const { files } = repository;
      const file = `docs/prfactory/${ticketFileName(ticket)}.md`;
      const summary = text(
        `Added ${file} with the approved plan of ${titleOf(ticket)}; no other file changed.`,
      );
      const content = text(
        `# ${titleOf(ticket)}`,
        '',
        `The repository had ${files.length} tracked files when this was written.`,
        '',
        '## Approved plan',
        '',
        plan.trim(),
        '',
        '## Summary',
        '',
        summary.replace(`${OFFLINE_NOTICE}\n\n`, '').trim(),
      );
      return { files: { [file]: content }, summary };
    },
  };
}

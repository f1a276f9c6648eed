/** Human-readable views of executions for `status` and `list` (their `--json` prints the API's JSON). */
import type { ExecutionDetails, ExecutionSummary } from '../host/service.js';

/** Aligned `label  value` lines; a value with several lines is indented under the first. */
function labelled(rows: [string, string | undefined][]): string {
  const shown = rows.filter((row): row is [string, string] => row[1] !== undefined && row[1] !== '');
  const width = Math.max(...shown.map(([label]) => label.length));
  return shown
    .map(([label, value]) => {
      const [first, ...rest] = value.split('\n');
      const indent = ' '.repeat(width + 2);
      return [`${label.padEnd(width)}  ${first}`, ...rest.map((line) => `${indent}${line}`)].join('\n');
    })
    .join('\n');
}

/**
 * What the execution's model calls and agent runs spent, on one line; nothing when nothing was called (or the
 * worker answering is older than `usage`).
 */
function formatUsage(usage: ExecutionDetails['usage'] | undefined): string | undefined {
  const total = usage?.total;
  if (total === undefined || total.calls === 0) return undefined;
  const tokens = `${total.inputTokens} in, ${total.outputTokens} out`;
  const cached = total.cacheReadTokens > 0 ? `, ${total.cacheReadTokens} cache read` : '';
  const cost = total.costUsd === undefined ? '' : `, $${total.costUsd.toFixed(4)}`;
  return `${total.calls} call${total.calls === 1 ? '' : 's'}, tokens ${tokens}${cached}${cost}`;
}

/** The summary `prfactory-worker status <id>` prints. */
export function formatExecution(execution: ExecutionDetails): string {
  const ticket = [execution.ticket.key, execution.ticket.title].filter(Boolean).join('  ');
  const questions = execution.questions?.length
    ? execution.questions.map((q) => `${q.id}  ${q.text}`).join('\n')
    : undefined;
  const answers =
    execution.answers && Object.keys(execution.answers).length
      ? Object.entries(execution.answers)
          .map(([id, text]) => `${id}  ${text}`)
          .join('\n')
      : undefined;
  return `${labelled([
    ['execution', execution.executionId],
    ['graph', `${execution.graph} v${execution.graphVersion}`],
    ['tenant', execution.tenantId],
    ['ticket', ticket],
    ['status', execution.status],
    ['state', execution.state ?? undefined],
    ['waiting for', execution.waitingFor.length ? execution.waitingFor.join(', ') : undefined],
    ['questions', questions],
    ['answers', answers],
    ['plan branch', execution.plan?.branch],
    ['pull request', execution.pullRequest?.url],
    ['last error', execution.lastError],
    ['retry', execution.retry && `${execution.retry.reason}, next attempt at ${execution.retry.at}`],
    ['usage', formatUsage(execution.usage)],
    ['comments', execution.comments ? String(execution.comments.length) : undefined],
    ['attempts', `${execution.attempts} (resume attempts ${execution.resumeAttempts})`],
    ['priority', String(execution.priority)],
    ['created', execution.createdAt],
    ['updated', execution.updatedAt],
  ])}\n`;
}

/** A plain text table: a header, then one row per item, columns padded to their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** The table `prfactory-worker list` prints. */
export function formatExecutionList(items: ExecutionSummary[]): string {
  return formatTable(
    ['EXECUTION', 'GRAPH', 'TENANT', 'TICKET', 'STATUS', 'STATE', 'UPDATED'],
    items.map((item) => [
      item.executionId,
      item.graph,
      item.tenantId,
      item.ticket?.key ?? '',
      item.status,
      item.state ?? '',
      item.updatedAt,
    ]),
  );
}

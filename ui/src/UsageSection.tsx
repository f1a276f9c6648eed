/** What the execution's model calls and coding agent runs spent, per step and in total. */
import { formatCount, formatUsd } from './format';
import type { ExecutionUsage } from './types';

export function UsageSection({ usage }: { usage: ExecutionUsage }) {
  const { total, steps } = usage;
  return (
    <section aria-labelledby="usage-heading">
      <h2 id="usage-heading">Usage</h2>
      <p>
        {formatCount(total.inputTokens + total.cacheReadTokens + total.cacheWriteTokens)} input and{' '}
        {formatCount(total.outputTokens)} output tokens in {formatCount(total.calls)} call
        {total.calls === 1 ? '' : 's'}
        {total.costUsd !== undefined ? `, ${formatUsd(total.costUsd)}` : ''}.
      </p>
      <table class="usage">
        <caption class="visually-hidden">Usage per step</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Provider</th>
            <th scope="col">Model</th>
            <th scope="col" class="number">
              Calls
            </th>
            <th scope="col" class="number">
              Input tokens
            </th>
            <th scope="col" class="number">
              Output tokens
            </th>
            <th scope="col" class="number">
              Cache read
            </th>
            <th scope="col" class="number">
              Cache write
            </th>
            <th scope="col" class="number">
              Cost
            </th>
          </tr>
        </thead>
        <tbody>
          {steps.map((step) => (
            <tr key={`${step.step}/${step.provider}/${step.model ?? ''}`}>
              <td>{step.step}</td>
              <td>{step.provider}</td>
              <td>{step.model ?? '–'}</td>
              <td class="number">{formatCount(step.calls)}</td>
              <td class="number">{formatCount(step.inputTokens)}</td>
              <td class="number">{formatCount(step.outputTokens)}</td>
              <td class="number">{formatCount(step.cacheReadTokens)}</td>
              <td class="number">{formatCount(step.cacheWriteTokens)}</td>
              <td class="number">{step.costUsd !== undefined ? formatUsd(step.costUsd) : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

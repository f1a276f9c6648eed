/**
 * The kind of a step's failure as a graph records it in `agentError` (fragments/common.ts), read from the thrown
 * value by shape: the error crosses the machine, whose context keeps plain data, so the host sees `{ kind,
 * retryAfterMs }`, never the instance. The classes adapters throw, and what the host does with each kind, are in
 * src/actors/failures.ts; they live there, the reading lives here, because machines import nothing outside
 * src/machines.
 */
export const stepFailureKinds = ['transient', 'rateLimited', 'permanent', 'breakerOpen'] as const;
export type StepFailureKind = (typeof stepFailureKinds)[number];

/**
 * The kind of anything thrown: `transient` unless it carries one of the kinds (a bug or an unforeseen failure
 * is retried, then fails), with `retryAfterMs` when it carries a non-negative number there.
 */
export function failureOf(error: unknown): { kind: StepFailureKind; retryAfterMs?: number } {
  const e = error as { kind?: unknown; retryAfterMs?: unknown } | null;
  const kind = stepFailureKinds.find((k) => k === e?.kind) ?? 'transient';
  const retryAfterMs =
    typeof e?.retryAfterMs === 'number' && e.retryAfterMs >= 0 ? e.retryAfterMs : undefined;
  return retryAfterMs === undefined ? { kind } : { kind, retryAfterMs };
}

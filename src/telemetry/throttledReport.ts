/**
 * Reports a recurring trouble at most once per interval, with how often it happened meanwhile: an accept loop
 * failing with EMFILE, or a full disk refusing every log line, must not flood the very output that is failing.
 *
 * ```ts
 * const refused = throttledReport(10_000, (count, last) => log.warn({ count, reason: last }, 'connections refused'));
 * refused.note('at the cap'); // reported now; the next notes within 10 s are only counted
 * ```
 */
export interface ThrottledReport<T> {
  /** counts one occurrence; reports it (with the occurrences counted since the last report) when due */
  note(detail: T): void;
  /** occurrences since the start */
  readonly total: number;
}

export function throttledReport<T>(
  intervalMs: number,
  report: (count: number, detail: T) => void,
  now: () => number = Date.now,
): ThrottledReport<T> {
  let total = 0;
  let pending = 0;
  let lastReport = Number.NEGATIVE_INFINITY;
  return {
    note(detail) {
      total++;
      pending++;
      const at = now();
      if (at - lastReport < intervalMs) return;
      lastReport = at;
      const count = pending;
      pending = 0;
      report(count, detail);
    },
    get total() {
      return total;
    },
  };
}

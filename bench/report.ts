/**
 * How the benchmarks speak: one JSON object per measurement on stdout (what `npm run bench` is for), progress as
 * plain lines on stderr (what a person watches), and the few statistics every measurement needs.
 */

const startedAt = performance.now();

/** A line of progress on stderr, with the seconds since the bench started. */
export function progress(message: string, fields: Record<string, unknown> = {}): void {
  const at = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(6);
  const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  process.stderr.write(`[${at}s] ${message}${extra}\n`);
}

/** One measurement as one JSON line on stdout. */
export function emit(measurement: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

/** Rounds to `digits` decimals (JSON stays readable). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Milliseconds of CPU per unit of work, from cores used on average over a window of `seconds`. */
export function cpuMsPer(cores: number, seconds: number, units: number): number {
  return round(((cores * seconds) / units) * 1000, 3);
}

/** The middle value (the lower of the two middle ones for an even count); undefined for none. */
export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export interface Distribution {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `samples` (milliseconds, say), rounded to 0.01. */
export function distribution(samples: number[]): Distribution {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    min: round(sorted[0]!),
    p50: round(rank(50)),
    p95: round(rank(95)),
    p99: round(rank(99)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

export const MIB = 1024 * 1024;

/** Bytes → MiB with one decimal. */
export function mib(bytes: number): number {
  return round(bytes / MIB, 1);
}

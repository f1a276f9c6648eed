/** How times, durations, ids and numbers read on the dashboard. */

/** The first 8 characters of a UUID: unique enough on a page, short enough for a table cell. */
export function shortId(executionId: string): string {
  return executionId.slice(0, 8);
}

const clock = { hour: '2-digit', minute: '2-digit', second: '2-digit' } as const;
const thisYear = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', ...clock });
const otherYear = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  ...clock,
});

/** An ISO time in the reader's locale and time zone (the year only when not this one); else the text itself. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (date.getFullYear() === new Date().getFullYear() ? thisYear : otherYear).format(date);
}

/** 850 ms → "850 ms", 12.3 s → "12.3 s", 125 s → "2 min 5 s", 2 h 3 min → "2 h 3 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes - hours * 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** milliseconds from `from` to `to` (ISO times) */
export function between(from: string, to: string): number {
  return new Date(to).getTime() - new Date(from).getTime();
}

const integer = new Intl.NumberFormat();

export function formatCount(n: number): string {
  return integer.format(n);
}

export function formatUsd(amount: number): string {
  return `$${amount.toFixed(amount < 1 ? 4 : 2)}`;
}

/**
 * The `nextCursor` of a list page: base64url of `<created_at to the microsecond, UTC>|<execution id>`, the keyset
 * position after which the next page starts. Clients treat it as opaque; whatever comes back is checked here
 * before it reaches SQL, so a forged or damaged cursor is the caller's 400, never a database error's 500.
 */

import { isUuid } from '../uuid.js';
import { InvalidInputError } from './errors.js';

export interface ListPosition {
  /** `2026-01-02T03:04:05.123456Z` */
  at: string;
  id: string;
}

const MICROSECOND_UTC = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(`${position.at}|${position.id}`, 'utf8').toString('base64url');
}

/** True for a real instant in years 1–9999 written as {@link ListPosition.at} (no 31 February, no hour 24). */
function isPositionTime(at: string): boolean {
  const match = MICROSECOND_UTC.exec(at);
  if (!match || Number(match[1]) < 1) return false;
  const milliseconds = `${at.slice(0, 23)}Z`;
  const parsed = new Date(milliseconds);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString() === milliseconds;
}

/** Throws {@link InvalidInputError} (HTTP 400) for anything {@link encodeCursor} did not write. */
export function decodeCursor(cursor: string): ListPosition {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const [at, id] = parts;
  if (parts.length !== 2 || !at || !id || !isPositionTime(at) || !isUuid(id)) {
    throw new InvalidInputError(
      'cursor is not one this API returned: pass the nextCursor of the previous page unchanged',
    );
  }
  return { at, id };
}

import { BadRequestError } from '@orgms/common/errors';
import { isCanonicalUuid } from '@orgms/common/ids';
import type { KeysetPage, KeysetPosition, PageQuery } from '@orgms/common/keyset-page';

/** A page as the API answers it: `nextCursor` is the next page's position as a cursor, null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A page request from the query string (`limit`, `cursor`) as stores take it; a cursor that is not ours is a 400. */
export function pageQuery(query: { limit: number; cursor?: string }): PageQuery {
  return { limit: query.limit, after: query.cursor ? decodeCursor(query.cursor) : undefined };
}

/** A store's page with its next position written as a cursor. */
export function withCursor<T>(page: KeysetPage<T>): Page<T> {
  return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
}

/**
 * What `encodeCursor` writes, and the only thing `decodeCursor` takes back: an ISO timestamp
 * (four-digit year, milliseconds, `Z`) and a canonical id, separated by `|`.
 */
const CURSOR_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|(.*)$/;

/** Rows are created by `now()`: anything outside these years is not ours (and may be outside PostgreSQL's range). */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function encodeCursor(cursor: KeysetPosition): string {
  return Buffer.from(`${cursor.createdAt.toISOString()}|${cursor.id}`).toString('base64url');
}

/**
 * The position a cursor of ours names; anything else (not our base64url spelling, not our text,
 * an impossible or out-of-range date, a non-canonical id) is a 400, before any query runs.
 */
export function decodeCursor(encoded: string): KeysetPosition {
  const invalid = () => new BadRequestError('The cursor is not valid; use next_cursor from a previous page.', 'invalid-cursor');
  const bytes = Buffer.from(encoded, 'base64url');
  // One spelling per cursor: re-encoding must give the same text (no padding, no character outside base64url, no stray trailing bits).
  if (bytes.toString('base64url') !== encoded) throw invalid();
  const match = CURSOR_TEXT.exec(bytes.toString('latin1'));
  if (!match || !isCanonicalUuid(match[2])) throw invalid();
  const [, iso, id] = match;
  const date = new Date(iso);
  const time = date.getTime();
  // A real instant (no 2026-02-30, no 25:00) written exactly as toISOString writes it, in range.
  if (Number.isNaN(time) || time < EARLIEST || time > LATEST || date.toISOString() !== iso) throw invalid();
  return { createdAt: date, id };
}

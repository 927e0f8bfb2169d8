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

/** A store's page with its next position written as a cursor (encodeSortedCursor for lists with several sorts). */
export function withCursor<T>(page: KeysetPage<T>): Page<T> {
  return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
}

/** What `encodeCursor` writes, and the only thing `decodeCursor` takes back: an instant and a canonical id, separated by `|`. */
const CURSOR_TEXT = /^([^|]*)\|(.*)$/;
/** An instant as toISOString writes it: four-digit year, milliseconds, `Z`. */
const CURSOR_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Rows are created by `now()`: anything outside these years is not ours (and may be outside PostgreSQL's range). */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export function encodeCursor(cursor: KeysetPosition): string {
  return Buffer.from(`${cursor.createdAt.toISOString()}|${cursor.id}`).toString('base64url');
}

/** The cursor's instant, when `iso` is one written exactly as toISOString writes it (no 2026-02-30, no 25:00) and in range. */
function instantOf(iso: string): Date | undefined {
  const date = new Date(iso);
  const time = date.getTime();
  if (!CURSOR_INSTANT.test(iso) || Number.isNaN(time) || time < EARLIEST || time > LATEST || date.toISOString() !== iso) return undefined;
  return date;
}

const invalidCursor = () => new BadRequestError('The cursor is not valid; use next_cursor from a previous page.', 'invalid-cursor');

/** The text in a cursor: one spelling per cursor, so re-encoding must give the same text (no padding, no character outside base64url, no stray trailing bits). */
function cursorText(encoded: string): string {
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.toString('base64url') !== encoded) throw invalidCursor();
  return bytes.toString('utf8');
}

/**
 * The position a cursor of ours names; anything else (not our base64url spelling, not our text,
 * an impossible or out-of-range date, a non-canonical id) is a 400, before any query runs.
 */
export function decodeCursor(encoded: string): KeysetPosition {
  const match = CURSOR_TEXT.exec(cursorText(encoded));
  const createdAt = match ? instantOf(match[1]) : undefined;
  if (!match || !createdAt || !isCanonicalUuid(match[2])) throw invalidCursor();
  return { createdAt, id: match[2] };
}

/**
 * A page position of a list that can be sorted several ways (GET /organizations): the cursor
 * names its sort, so following it in another sort (which would skip or repeat rows) is refused.
 * Its text is the JSON array [sort, key, id].
 */
export function encodeSortedCursor(sort: string, position: { key: string; id: string }): string {
  return Buffer.from(JSON.stringify([sort, position.key, position.id])).toString('base64url');
}

/** Longest key a sorted cursor may carry (a name key is at most a few hundred characters). */
const MAX_SORT_KEY_LENGTH = 1000;

/**
 * The position a sorted cursor names, when it was written for `sort`; a 400 otherwise: another
 * sort's cursor (saying which), or anything encodeSortedCursor never writes (a key that is not an
 * instant when `byInstant`, a non-canonical id). Checked before any query runs.
 */
export function decodeSortedCursor(encoded: string, sort: string, byInstant: boolean): { key: string; id: string } {
  const text = cursorText(encoded);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((part) => typeof part === 'string') || JSON.stringify(parsed) !== text)
    throw invalidCursor();
  const [cursorSort, key, id] = parsed as string[];
  if (cursorSort !== sort)
    throw new BadRequestError(
      `The cursor belongs to the list sorted by ${JSON.stringify(cursorSort)}, not ${JSON.stringify(sort)}; send the sort it came with.`,
      'invalid-cursor',
    );
  // PostgreSQL text cannot hold NUL: such a key would be a 500, not a 400.
  if (!isCanonicalUuid(id) || key.length > MAX_SORT_KEY_LENGTH || key.includes('\u0000') || (byInstant && !instantOf(key))) throw invalidCursor();
  return { key, id };
}

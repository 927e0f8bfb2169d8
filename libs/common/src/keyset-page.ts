/** Where a page starts: the (created_at, id) of the last row of the previous page. */
export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

/** A page request to a store: at most `limit` rows after `after` (from the start without it). */
export interface PageQuery {
  limit: number;
  after?: KeysetPosition;
}

/** One page of rows, and where the next one starts (null on the last page). */
export interface KeysetPage<T, P = KeysetPosition> {
  items: T[];
  next: P | null;
}

/**
 * The page in `rows`, which a store fetched with `LIMIT limit + 1`: the extra row only tells
 * that another page exists, and is not returned.
 */
export function keysetPage<T extends KeysetPosition>(rows: T[], limit: number): KeysetPage<T> {
  return keysetPageBy(rows, limit, (last) => ({ createdAt: last.createdAt, id: last.id }));
}

/** keysetPage for a list sorted by other keys: `positionOf` reads the next page's start from the page's last row. */
export function keysetPageBy<T, P>(rows: T[], limit: number, positionOf: (last: T) => P): KeysetPage<T, P> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? positionOf(last) : null };
}

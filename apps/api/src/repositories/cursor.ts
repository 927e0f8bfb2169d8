import { BadRequestError } from '@orgms/common';

/** Keyset pagination position: the (created_at, id) of the last item of the previous page. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.createdAt.toISOString()}|${cursor.id}`).toString('base64url');
}

export function decodeCursor(encoded: string): Cursor {
  const [createdAt, id] = Buffer.from(encoded, 'base64url').toString('utf8').split('|');
  const date = new Date(createdAt);
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(date.getTime())) {
    throw new BadRequestError('The cursor is not valid; use next_cursor from a previous page.', 'invalid-cursor');
  }
  return { createdAt: date, id };
}

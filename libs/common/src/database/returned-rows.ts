/**
 * The rows of a `… RETURNING` query run through TypeORM's `query()`: on PostgreSQL it answers
 * `[rows, affected]` for UPDATE and DELETE, and the rows alone for INSERT and SELECT.
 */
export function returnedRows<T>(result: unknown): T[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as T[];
}

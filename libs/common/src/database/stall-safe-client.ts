import { Client } from 'pg';

/** pg's error for a query that got no answer within `query_timeout`. */
const QUERY_READ_TIMEOUT = 'Query read timeout';

export function isQueryReadTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === QUERY_READ_TIMEOUT;
}

/**
 * The pg Client of every bounded pool (pool-options.ts). pg's `query_timeout` rejects a query that
 * got no answer in time but keeps the connection: on a stalled network that connection is still
 * waiting for the lost answer, so the next query on it (the ROLLBACK of the failed transaction, the
 * next request that borrows it from the pool) would wait all over again. A timed-out query
 * therefore closes its connection: the queries behind it fail at once, and the pool replaces it.
 */
export class StallSafeClient extends Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query has a dozen overloads; this passes every one through unchanged
  override query(...args: any[]): any {
    // biome-ignore lint/suspicious/noExplicitAny: see above
    const result = (Client.prototype.query as (...a: any[]) => any).apply(this, args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (isQueryReadTimeout(error)) this.abandonConnection();
      });
    }
    return result;
  }

  private abandonConnection(): void {
    (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}

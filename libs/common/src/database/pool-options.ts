import type { ClientBase } from 'pg';
import type { DatabaseTimeouts } from '../config';
import { StallSafeClient } from './stall-safe-client';

/** Connections of the service's own long work (clones, schema changes) keep this connect bound and no query bound. */
const UNBOUNDED: DatabaseTimeouts = { connectMs: 5000, queryMs: 0 };

/**
 * pg pool settings shared by every DataSource.
 * - `timeouts`: `connectionTimeoutMillis` bounds opening a connection and waiting for a free one;
 *   `query_timeout` bounds each query's wait for its answer, and StallSafeClient closes a
 *   connection whose query timed out, so a stalled network costs a request seconds, not the stall.
 * - `onConnect` attaches an error listener the moment a connection opens: pg-pool drops its own
 *   listener when it hands a new client out and TypeORM adds one only later, and a "terminating
 *   connection" notice arriving in between (server restart, failover, pg_terminate_backend) would
 *   otherwise crash the process with an unhandled 'error' event. The failed query still reports
 *   the error to its caller. `onConnection` is told of every connection the pool opens.
 */
export function poolExtra(idleTimeoutMillis: number, timeouts: DatabaseTimeouts = UNBOUNDED, onConnection?: (client: ClientBase) => void) {
  return {
    Client: StallSafeClient,
    connectionTimeoutMillis: timeouts.connectMs,
    ...(timeouts.queryMs > 0 ? { query_timeout: timeouts.queryMs } : {}),
    idleTimeoutMillis,
    onConnect: (client: ClientBase) => {
      client.on('error', () => undefined);
      onConnection?.(client);
    },
  };
}

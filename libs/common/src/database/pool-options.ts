import type { ClientBase } from 'pg';

/**
 * pg pool settings shared by every DataSource. `onConnect` attaches an error listener the moment
 * a connection opens: pg-pool drops its own listener when it hands a new client out and
 * TypeORM adds one only later, and a "terminating connection" notice arriving in between
 * (server restart, failover, pg_terminate_backend) would otherwise crash the process with an
 * unhandled 'error' event. The failed query still reports the error to its caller.
 */
export function poolExtra(idleTimeoutMillis: number, onConnection?: (client: ClientBase) => void) {
  return {
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis,
    onConnect: (client: ClientBase) => {
      client.on('error', () => undefined);
      onConnection?.(client);
    },
  };
}

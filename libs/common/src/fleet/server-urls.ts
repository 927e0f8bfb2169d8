import type { DatabaseServer } from '../control-plane/database-server-store';
import { withDatabase } from '../database/database-urls';

/** Where the API connects for an organization database: through the server's PgBouncer when it has one. */
export function tenantUrlOf(server: Pick<DatabaseServer, 'adminUrl' | 'poolUrl'>, databaseName: string): string {
  return withDatabase(server.poolUrl ?? server.adminUrl, databaseName);
}

/** A URL as answers show it: the password replaced, so a credential never leaves the service. */
export function maskedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '****';
  return parsed.toString();
}

/** `host:port` of a server URL (PostgreSQL's default port when none is given). */
export function hostAndPortOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : 5432 };
}

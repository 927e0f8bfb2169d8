import type { DatabaseServer } from '../control-plane/database-server-store';
import { withDatabase } from '../database/database-urls';

/** An organization's own login role (control-plane/tenant-role-store.ts), as a connection logs in. */
export interface DatabaseLogin {
  user: string;
  password: string;
}

/** `url` logging in as `login`; unchanged without one (the organization uses the server's role). */
export function withLogin(url: string, login: DatabaseLogin | undefined): string {
  if (!login) return url;
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(login.user);
  parsed.password = encodeURIComponent(login.password);
  return parsed.toString();
}

/**
 * Where the API connects for an organization database: through the server's PgBouncer when it
 * has one, as the organization's own role when it has one (else as the URL's role).
 */
export function tenantUrlOf(server: Pick<DatabaseServer, 'adminUrl' | 'poolUrl'>, databaseName: string, login?: DatabaseLogin): string {
  return withLogin(withDatabase(server.poolUrl ?? server.adminUrl, databaseName), login);
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

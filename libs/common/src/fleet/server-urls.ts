import { withDatabase } from '../database/database-urls';
import type { DatabaseServer } from './database-server-store';

/** An organization's own login role (tenant-role-store.ts), as a connection logs in. */
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

/**
 * The only parameters a server URL may carry. node-postgres acts on any other it is given: it
 * reads `sslrootcert`/`sslcert`/`sslkey` as files on this host, takes `host` as a socket path and
 * `user`/`password` over the URL's own, so an allow list is the only safe shape.
 */
export const SERVER_URL_PARAMETERS = ['sslmode', 'application_name', 'connect_timeout'] as const;

/** Parameters that hold a credential: refused, so a password is only ever in the user part (which answers mask). */
const CREDENTIAL_PARAMETERS = ['password', 'sslpassword', 'passfile'];

/** The modes node-postgres knows (libpq's, and its own `no-verify`). */
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/**
 * Why `url` may not be a database server's URL, as the end of a sentence naming it ("admin_url
 * may not …"), or undefined when it may. Its scheme and form are the schema's to check. Never
 * repeats a parameter's value: it may be a password or a path.
 */
export function serverUrlProblem(url: string): string | undefined {
  const parsed = URL.parse(url);
  if (!parsed) return undefined;
  if (/^(\/|%2f)/i.test(parsed.hostname)) return 'must name a host, not a socket path';
  for (const [name, value] of parsed.searchParams) {
    if (CREDENTIAL_PARAMETERS.includes(name.toLowerCase())) {
      return `may not carry "${name}" as a parameter; the password goes in the URL's user part: postgres://user:password@host:5432/postgres`;
    }
    if (!(SERVER_URL_PARAMETERS as readonly string[]).includes(name)) {
      return `may not carry the parameter "${name}"; allowed: ${SERVER_URL_PARAMETERS.join(', ')}`;
    }
    if (name === 'sslmode' && !SSL_MODES.includes(value)) return `sslmode must be one of ${SSL_MODES.join(', ')}`;
    if (name === 'connect_timeout' && !/^\d{1,4}$/.test(value)) return 'connect_timeout must be a number of seconds';
  }
  return undefined;
}

/**
 * A URL as answers show it: the password replaced, so a credential never leaves the service;
 * also in a credential parameter of a server recorded before `serverUrlProblem` refused them.
 */
export function maskedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '****';
  for (const name of [...parsed.searchParams.keys()]) {
    if (CREDENTIAL_PARAMETERS.includes(name.toLowerCase())) parsed.searchParams.set(name, '****');
  }
  return parsed.toString();
}

/** `host:port` of a server URL (PostgreSQL's default port when none is given). */
export function hostAndPortOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : 5432 };
}

import { Client, DatabaseError } from 'pg';
import { hostAndPortOf } from './server-urls';

/** How long a probe waits for a server to connect and to answer. */
export const PROBE_TIMEOUT_MS = 3000;

export interface ProbeResult {
  ok: boolean;
  /** Why the server cannot take organization databases, in words for an operator. */
  reason?: string;
  /** Whether its role may also CREATE ROLE, which organizations' own login roles need (false when not ok). */
  mayCreateRoles: boolean;
}

/**
 * Connects to a server's admin URL and checks that its role may create databases: what adding
 * a server and placing organizations on it need; and whether it may create roles, which
 * organizations' own login roles need. Never throws; a failure is the reason.
 */
export async function probeServer(adminUrl: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  let client: Client;
  try {
    client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  } catch {
    // The URL's own words may name a file of this host (ENOENT … open '/…'): none are repeated.
    return { ok: false, reason: 'the URL cannot be used', mayCreateRoles: false };
  }
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ databases: boolean; roles: boolean }>(
      'SELECT (rolcreatedb OR rolsuper) AS databases, (rolcreaterole OR rolsuper) AS roles FROM pg_roles WHERE rolname = current_user',
    );
    if (!rows[0]?.databases) return { ok: false, reason: 'the role may not create databases (needs CREATEDB)', mayCreateRoles: false };
    return { ok: true, mayCreateRoles: rows[0].roles };
  } catch (error) {
    return { ok: false, reason: whyNotConnected(error, adminUrl), mayCreateRoles: false };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A failed connection in words that tell a server's answer (a refused login, a missing database)
 * but not how the network failed: "refused", "timed out", "no route" and "no such name" are one
 * reason, so a URL cannot map which ports of which hosts the API reaches. The server's own
 * messages are not repeated either: they name this host's address.
 */
function whyNotConnected(error: unknown, adminUrl: string): string {
  if (error instanceof DatabaseError) {
    if (error.code?.startsWith('28')) return 'the server refused the login (check the role and password, and that pg_hba.conf lets this host in)';
    if (error.code === '3D000') return 'the database named in the URL does not exist';
    if (error.code === '42501') return 'the role may not connect to the database named in the URL (needs CONNECT on it)';
    return `the server refused the connection (SQLSTATE ${error.code})`;
  }
  const { host, port } = hostAndPortOf(adminUrl);
  return `cannot connect to ${host}:${port} (check the host, the port, the network and sslmode)`;
}

/** Those of `servers` that answer a probe now (in their order). */
export async function reachableServers<T extends { id: string; adminUrl: string }>(
  servers: T[],
  reachability: Pick<ServerReachability, 'check'>,
): Promise<T[]> {
  const probes = await Promise.all(servers.map((server) => reachability.check(server)));
  return servers.filter((_, i) => probes[i].ok);
}

/**
 * Remembers probe results for a few seconds, so placing a burst of organizations costs one
 * connection per server, not one per organization, and a server that went down is skipped soon.
 */
export class ServerReachability {
  private readonly results = new Map<string, { at: number; result: Promise<ProbeResult> }>();

  constructor(
    private readonly ttlMs = 5000,
    private readonly probe: (adminUrl: string) => Promise<ProbeResult> = probeServer,
  ) {}

  check(server: { id: string; adminUrl: string }): Promise<ProbeResult> {
    const cached = this.results.get(server.id);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.result;
    const result = this.probe(server.adminUrl);
    this.results.set(server.id, { at: Date.now(), result });
    return result;
  }
}

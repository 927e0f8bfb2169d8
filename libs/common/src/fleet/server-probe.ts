import { Client } from 'pg';

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
export async function probeServer(adminUrl: string, timeoutMs = 3000): Promise<ProbeResult> {
  let client: Client;
  try {
    client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  } catch (error) {
    return { ok: false, reason: `the URL cannot be used: ${(error as Error).message}`, mayCreateRoles: false };
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
    return { ok: false, reason: `cannot connect: ${(error as Error).message}`, mayCreateRoles: false };
  } finally {
    await client.end().catch(() => undefined);
  }
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

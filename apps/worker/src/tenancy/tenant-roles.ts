import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { DatabaseServer } from '@orgms/common/control-plane/database-server-store';
import type { TenantRoleCredentials, TenantRoleStore } from '@orgms/common/control-plane/tenant-role-store';
import { sqlStateOf } from '@orgms/common/database/database-errors';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { Organization } from '@orgms/common/entities/organization.entity';
import { type DatabaseLogin, withLogin } from '@orgms/common/fleet/server-urls';
import type { Logger } from '@orgms/common/logger';
import { markerFor, roleNameFor } from '@orgms/common/tenancy/database-names';
import { Client } from 'pg';
import { JobFailure } from '../job-failure';

/**
 * Each organization's own PostgreSQL login role (DESIGN §10): the SQL, all of it here. Identifiers
 * are role and database names derived from our ids; statements that take no parameters
 * (CREATE/ALTER ROLE, GRANT, ALTER … OWNER) are built by the server with format(%I, %L) from
 * parameters, so nothing is spliced in by hand. Every function converges when run again.
 */

/** What `ensureRole` did. */
export type EnsureRoleOutcome = 'created' | 'updated';

/**
 * Makes sure the login role exists on the server of `adminUrl` with exactly these rights (LOGIN,
 * no superuser, no CREATEDB, no CREATEROLE) and this password, marked as the organization's with
 * `COMMENT ON ROLE` (created and marked in one transaction). A role of that name without our
 * marker is someone else's: refused for good. The admin role is made a member of it (inheriting
 * its rights), so a non-superuser admin (CREATEROLE) may give it the database and still reach,
 * copy and drop the database itself.
 * The password is sent as a SCRAM-SHA-256 verifier, so it never appears in the server's logs.
 */
export async function ensureRole(adminUrl: string, orgId: string, credentials: TenantRoleCredentials): Promise<EnsureRoleOutcome> {
  const marker = markerFor(orgId);
  const verifier = scramVerifier(credentials.password);
  return withClient(adminUrl, async (client) => {
    await client.query('BEGIN');
    try {
      const { rows } = await client.query<{ marker: string | null; unsafe: boolean }>(
        `SELECT shobj_description(oid, 'pg_authid') AS marker, (rolsuper OR rolreplication OR rolbypassrls) AS unsafe FROM pg_roles WHERE rolname = $1`,
        [credentials.roleName],
      );
      const existing = rows[0];
      if (existing && (existing.marker !== marker || existing.unsafe)) {
        throw new JobFailure(`a database role named ${credentials.roleName} already exists and does not belong to this organization`, {
          permanent: true,
        });
      }
      const statement = existing
        ? `ALTER ROLE %I LOGIN NOCREATEDB NOCREATEROLE PASSWORD %L`
        : `CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L`;
      await execute(client, statement, [credentials.roleName, verifier]);
      if (!existing) await execute(client, 'COMMENT ON ROLE %I IS %L', [credentials.roleName, marker]);
      // USAGE (its rights without SET ROLE), not mere membership: PostgreSQL 16 gives a role's
      // creator an ADMIN-only membership, which may neither hand it a database nor use its rights.
      const { rows: membership } = await client.query<{ inherits: boolean }>(`SELECT pg_has_role(current_user, $1, 'USAGE') AS inherits`, [
        credentials.roleName,
      ]);
      if (!membership[0].inherits) await execute(client, 'GRANT %I TO CURRENT_USER', [credentials.roleName]);
      await client.query('COMMIT');
      return existing ? 'updated' : 'created';
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Gives `roleName` its database, in one transaction on the database itself: the database, schema
 * public and every object in it (tables and their sequences and indexes, views, sequences,
 * types, routines; not those of extensions) change owner; CONNECT and TEMPORARY are revoked from
 * PUBLIC and granted to the role alone. Objects come owned by the admin role (a clone of the
 * template, a pg_restore of a move), hence the explicit transfer. Returns how many objects moved.
 */
export async function grantOwnership(adminUrl: string, databaseName: string, roleName: string): Promise<number> {
  return withClient(withDatabase(adminUrl, databaseName), async (client) => {
    await client.query('BEGIN');
    try {
      await execute(client, 'ALTER DATABASE %I OWNER TO %I', [databaseName, roleName]);
      await execute(client, 'REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', [databaseName]);
      await execute(client, 'GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', [databaseName, roleName]);
      await execute(client, 'ALTER SCHEMA public OWNER TO %I', [roleName]);
      let moved = 0;
      // Tables first: ALTER TABLE also moves their indexes and the sequences they own, which
      // refuse to change owner on their own; the second query finds what is left.
      for (const query of [RELATIONS_TO_MOVE, OTHER_OBJECTS_TO_MOVE]) {
        const { rows } = await client.query<{ statement: string }>(query, [roleName]);
        for (const { statement } of rows) await client.query(statement);
        moved += rows.length;
      }
      await client.query('COMMIT');
      return moved;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/** What `dropRole` did: `in_use` when the role still owns or may use something on the server (kept). */
export type DropRoleOutcome = 'dropped' | 'absent' | 'in_use' | 'foreign';

/**
 * Drops the organization's role on the server of `adminUrl`, after its database was dropped (a
 * purge, or the source of a move). A role that still owns or is granted anything on the server
 * (another database uses it) is kept, as is one without our marker.
 */
export async function dropRole(adminUrl: string, orgId: string, roleName: string): Promise<DropRoleOutcome> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ marker: string | null }>(`SELECT shobj_description(oid, 'pg_authid') AS marker FROM pg_roles WHERE rolname = $1`, [
      roleName,
    ]);
    if (rows.length === 0) return 'absent';
    if (rows[0].marker !== markerFor(orgId)) return 'foreign';
    try {
      await execute(client, 'DROP ROLE IF EXISTS %I', [roleName]);
      return 'dropped';
    } catch (error) {
      // 2BP01: objects (in any database of the server) still depend on it.
      if (sqlStateOf(error) === '2BP01') return 'in_use';
      throw error;
    }
  });
}

/** Everything in schema public not owned by the role, as ALTER statements (extension members excluded). */
const RELATIONS_TO_MOVE = `
  SELECT format('ALTER %s %I.%I OWNER TO %I',
                CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                n.nspname, c.relname, $1::text) AS statement
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
   ORDER BY c.relname`;

const OTHER_OBJECTS_TO_MOVE = `
  SELECT format('ALTER SEQUENCE %I.%I OWNER TO %I', n.nspname, c.relname, $1::text) AS statement
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind = 'S'
     AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
  UNION ALL
  SELECT format('ALTER TYPE %I.%I OWNER TO %I', n.nspname, t.typname, $1::text)
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = 'public' AND (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
     AND t.typowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
  UNION ALL
  SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1::text)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'public'
     AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`;

/** Runs a statement that takes no parameters, built by the server from parameters with format(). */
async function execute(client: Client, template: string, values: string[]): Promise<void> {
  const placeholders = values.map((_, i) => `$${i + 1}::text`).join(', ');
  const { rows } = await client.query<{ statement: string }>(`SELECT format('${template.replace(/'/g, "''")}', ${placeholders}) AS statement`, values);
  await client.query(rows[0].statement);
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a terminated session surfaces on the next query instead
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802/7677), as CREATE ROLE … PASSWORD accepts it. */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Whether an organization's connections use its own role (`own`) or the server's admin role (`shared`). */
export type DatabaseRoleMode = 'own' | 'shared';

/**
 * Gives organizations their roles, for the services that make, migrate and move databases: the
 * credentials from the control database (TenantRoleStore), the SQL above on the server.
 */
export class TenantRoles {
  constructor(
    private readonly deps: {
      store: TenantRoleStore;
      databasePrefix: string;
      logger: Logger;
    },
  ) {}

  /**
   * Makes the organization's role exist on `server` and own `options.database` (by default its
   * database; a move passes its staging copy), then records it granted unless told not to (a
   * move records it once it has switched). `shared` (nothing done) on a server registered
   * without tenant roles.
   */
  async provide(
    org: Pick<Organization, 'id' | 'databaseName'>,
    server: DatabaseServer,
    options: { database?: string; record?: boolean } = {},
  ): Promise<DatabaseRoleMode> {
    const credentials = await this.ensureOn(org, server);
    if (!credentials) return 'shared';
    const moved = await grantOwnership(server.adminUrl, options.database ?? org.databaseName, credentials.roleName);
    if (options.record ?? true) await this.deps.store.markGranted(org.id);
    this.deps.logger.info('organization database owned by its role', { server: server.name, role: credentials.roleName, objects: moved });
    return 'own';
  }

  /** Connections log in as the organization's role from now on (its database on `server` is owned by it). */
  async recordGranted(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<void> {
    if (server.tenantRoles) await this.deps.store.markGranted(org.id);
  }

  /** Whether the organization should get its role on `server` and has none yet (what a fleet run gives it). */
  async lacksRole(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<boolean> {
    return server.tenantRoles && !(await this.deps.store.withGrantedRoles([org.id])).has(org.id);
  }

  /** Those of `orgIds` that have a granted role. */
  grantedAmong(orgIds: string[]): Promise<Set<string>> {
    return this.deps.store.withGrantedRoles(orgIds);
  }

  /** The role exists on `server` with its one password (a move's target, before anything is copied); undefined on a shared server. */
  async ensureOn(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<TenantRoleCredentials | undefined> {
    if (!server.tenantRoles) return undefined;
    const credentials = await this.deps.store.ensureCredentials(org.id, roleNameFor(org.id, this.deps.databasePrefix));
    const outcome = await ensureRole(server.adminUrl, org.id, credentials);
    this.deps.logger.debug('organization role ensured', { server: server.name, role: credentials.roleName, outcome });
    return credentials;
  }

  /** The URL the worker's tenant connections (migrations, seeding) use: as the organization's role once it has one. */
  async tenantUrl(org: Pick<Organization, 'id' | 'databaseName'>, server: DatabaseServer): Promise<string> {
    return withLogin(withDatabase(server.adminUrl, org.databaseName), await this.loginOf(org, server));
  }

  /** Drops the organization's role on `server` (its database there is gone); kept when something else still uses it. */
  async dropFrom(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<DropRoleOutcome> {
    const outcome = await dropRole(server.adminUrl, org.id, roleNameFor(org.id, this.deps.databasePrefix));
    if (outcome === 'in_use' || outcome === 'foreign') this.deps.logger.warn('organization role kept', { server: server.name, outcome });
    return outcome;
  }

  private async loginOf(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<DatabaseLogin | undefined> {
    if (!server.tenantRoles) return undefined;
    const credentials = await this.deps.store.grantedCredentials(org.id);
    return credentials && { user: credentials.roleName, password: credentials.password };
  }
}

import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { DatabaseLimits } from '@orgms/common/config';
import { sqlStateOf } from '@orgms/common/database/database-errors';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import { type DatabaseLogin, withLogin } from '@orgms/common/fleet/server-urls';
import type { TenantRoleCredentials, TenantRoleStore } from '@orgms/common/fleet/tenant-role-store';
import type { Logger } from '@orgms/common/logger';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { markerFor, roleNameFor, spareMarkerFor } from '@orgms/common/tenancy/database-names';
import { Client } from 'pg';
import { JobFailure } from '../job-failure';

/**
 * Each organization's own PostgreSQL login role (docs/operations/tenant-databases.md, "Database roles"): the SQL, all of it here. Identifiers
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
export function ensureRole(adminUrl: string, orgId: string, credentials: TenantRoleCredentials, limits: DatabaseLimits): Promise<EnsureRoleOutcome> {
  return inTransaction(adminUrl, async (client) => {
    const outcome = await ensureRoleWith(client, orgId, credentials);
    await limitRoleWith(client, credentials.roleName, limits);
    return outcome;
  });
}

/**
 * Gives `roleName` its database, in one transaction on the database itself: the database, schema
 * public and every object in it (tables and their sequences and indexes, views, sequences,
 * types, routines; not those of extensions) change owner; CONNECT and TEMPORARY are revoked from
 * PUBLIC and granted to the role alone. Objects come owned by the admin role (a clone of the
 * template, a pg_restore of a move), hence the explicit transfer. Returns how many objects moved.
 */
export function grantOwnership(adminUrl: string, databaseName: string, roleName: string): Promise<number> {
  return inTransaction(withDatabase(adminUrl, databaseName), (client) => grantOwnershipWith(client, databaseName, roleName));
}

/**
 * `ensureRole` then `grantOwnership`, in one transaction on the database (roles are the server's,
 * so they may be made from any of its databases): what provisioning does, with one connection and
 * one commit instead of two.
 */
export function ensureRoleOwning(
  adminUrl: string,
  databaseName: string,
  orgId: string,
  credentials: TenantRoleCredentials,
  limits: DatabaseLimits,
): Promise<{ role: EnsureRoleOutcome; moved: number; limits: RoleLimitsOutcome }> {
  return inTransaction(withDatabase(adminUrl, databaseName), async (client) => {
    const role = await ensureRoleWith(client, orgId, credentials);
    const applied = await limitRoleWith(client, credentials.roleName, limits);
    return { role, moved: await grantOwnershipWith(client, databaseName, credentials.roleName), limits: applied };
  });
}

/** Which of the role's limits were set; `temp_file_limit` is left alone when the admin role is no superuser. */
export interface RoleLimitsOutcome {
  skipped: 'temp_file_limit'[];
}

/**
 * Sets the organization role's limits (docs/operations/tenant-databases.md, "Database limits"), on
 * the server of `adminUrl`: they apply to every session it opens from then on. Its password is
 * set again as a verifier of SCRAM_ITERATIONS, so roles made with another count converge (the
 * password itself is unchanged; open sessions are unaffected). A role that is absent or not the
 * organization's is refused for good. Converges when run again.
 */
export function limitRole(adminUrl: string, orgId: string, credentials: TenantRoleCredentials, limits: DatabaseLimits): Promise<RoleLimitsOutcome> {
  const { roleName } = credentials;
  return inTransaction(adminUrl, async (client) => {
    const { rows } = await client.query<{ marker: string | null }>(`SELECT shobj_description(oid, 'pg_authid') AS marker FROM pg_roles WHERE rolname = $1`, [
      roleName,
    ]);
    if (rows[0]?.marker !== markerFor(orgId)) {
      throw new JobFailure(`the database role ${roleName} is not this organization's`, { permanent: true });
    }
    await execute(client, 'ALTER ROLE %1$I PASSWORD %2$L', [roleName, scramVerifier(credentials.password)]);
    return limitRoleWith(client, roleName, limits);
  });
}

/**
 * CONNECTION LIMIT and the per-role settings. temp_file_limit is a superuser-only setting: an
 * admin role without superuser may not set it on any role, so it is skipped (the caller warns)
 * rather than failing provisioning over it.
 */
async function limitRoleWith(client: Client, roleName: string, limits: DatabaseLimits): Promise<RoleLimitsOutcome> {
  const values = limitValues(limits);
  const { rows } = await client.query<{ superuser: boolean }>(`SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user`);
  const superuser = rows[0]?.superuser === true;
  await execute(client, `${LIMITS_TEMPLATE}${superuser ? TEMP_FILE_LIMIT_TEMPLATE : ''}`, [roleName, ...values]);
  return { skipped: superuser ? [] : ['temp_file_limit'] };
}

// CONNECTION LIMIT takes a literal number (%s of a checked integer); settings take quoted values (%L).
const LIMITS_TEMPLATE = `ALTER ROLE %1$I CONNECTION LIMIT %2$s; ALTER ROLE %1$I SET statement_timeout = %3$L;
     ALTER ROLE %1$I SET idle_in_transaction_session_timeout = %4$L`;
const TEMP_FILE_LIMIT_TEMPLATE = '; ALTER ROLE %1$I SET temp_file_limit = %5$L';

function limitValues(limits: DatabaseLimits): string[] {
  const values = [limits.connectionLimit, limits.statementTimeoutMs, limits.idleInTransactionTimeoutMs, limits.tempFileLimitKb];
  if (!values.every(Number.isSafeInteger)) throw new JobFailure('database limits must be whole numbers', { permanent: true });
  return values.map(String);
}

async function ensureRoleWith(client: Client, orgId: string, credentials: TenantRoleCredentials): Promise<EnsureRoleOutcome> {
  const marker = markerFor(orgId);
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
  await execute(
    client,
    existing
      ? 'ALTER ROLE %1$I LOGIN NOCREATEDB NOCREATEROLE PASSWORD %2$L'
      : 'CREATE ROLE %1$I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %2$L; COMMENT ON ROLE %1$I IS %3$L',
    [credentials.roleName, scramVerifier(credentials.password), marker],
  );
  // USAGE (its rights without SET ROLE), not mere membership: PostgreSQL 16 gives a role's
  // creator an ADMIN-only membership, which may neither hand it a database nor use its rights.
  const { rows: membership } = await client.query<{ inherits: boolean }>(`SELECT pg_has_role(current_user, $1, 'USAGE') AS inherits`, [credentials.roleName]);
  if (!membership[0].inherits) await execute(client, 'GRANT %I TO CURRENT_USER', [credentials.roleName]);
  return existing ? 'updated' : 'created';
}

/** On a connection to the database itself, in a transaction; how many objects changed owner. */
async function grantOwnershipWith(client: Client, databaseName: string, roleName: string): Promise<number> {
  await execute(
    client,
    `ALTER DATABASE %1$I OWNER TO %2$I; REVOKE CONNECT, TEMPORARY ON DATABASE %1$I FROM PUBLIC;
     GRANT CONNECT, TEMPORARY ON DATABASE %1$I TO %2$I; ALTER SCHEMA public OWNER TO %2$I`,
    [databaseName, roleName],
  );
  const { rows } = await client.query<{ statement: string }>(OBJECTS_TO_MOVE, [roleName]);
  // One round trip for all of them (the simple query protocol takes several statements).
  if (rows.length > 0) await client.query(rows.map((r) => r.statement).join(';\n'));
  return rows.length;
}

/**
 * The role of a spare database (apps/worker/src/tenancy/spare-databases.ts), named like it: made
 * NOLOGIN (nobody signs in as a spare), marked as the spare's, and given the database as
 * provisioning gives an organization's role its own, in one transaction on the database. Converges
 * when run again.
 */
export function ensureSpareRoleOwning(adminUrl: string, databaseName: string, spareId: string): Promise<number> {
  return inTransaction(withDatabase(adminUrl, databaseName), async (client) => {
    const marker = spareMarkerFor(spareId);
    const { rows } = await client.query<{ marker: string | null }>(`SELECT shobj_description(oid, 'pg_authid') AS marker FROM pg_roles WHERE rolname = $1`, [
      databaseName,
    ]);
    if (rows[0] && rows[0].marker !== marker) throw new JobFailure(`a database role named ${databaseName} is not this spare's`, { permanent: true });
    if (!rows[0]) {
      await execute(client, 'CREATE ROLE %1$I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS; COMMENT ON ROLE %1$I IS %2$L', [
        databaseName,
        marker,
      ]);
    }
    // As for an organization's role: the admin role uses its rights, so it may rename and drop what it owns.
    const { rows: membership } = await client.query<{ inherits: boolean }>(`SELECT pg_has_role(current_user, $1, 'USAGE') AS inherits`, [databaseName]);
    if (!membership[0].inherits) await execute(client, 'GRANT %I TO CURRENT_USER', [databaseName]);
    return grantOwnershipWith(client, databaseName, databaseName);
  });
}

/**
 * What turns a spare's role into the organization's inside the claim's transaction on `client`
 * (so with the database's rename, all of it or nothing): the statements that rename it, mark it
 * as the organization's and give it LOGIN with the organization's password and its limits (it
 * owns the database already), built by the server in one round trip with the checks. Undefined
 * when the spare's role is not there as made, or the organization has a role already (an earlier
 * attempt made it): the caller gives the spare back and clones instead.
 */
export async function spareRoleTakeover(
  client: Client,
  spare: { id: string; roleName: string },
  orgId: string,
  credentials: TenantRoleCredentials,
  limits: DatabaseLimits,
): Promise<{ statements: string; limits: RoleLimitsOutcome } | undefined> {
  const { rows } = await client.query<{ spareMarker: string | null; taken: boolean; superuser: boolean; takeover: string; limits: string }>(
    `SELECT (SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1) AS "spareMarker",
            EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2) AS taken,
            su.superuser,
            format('ALTER ROLE %1$I RENAME TO %2$I; ALTER ROLE %2$I LOGIN PASSWORD %3$L; COMMENT ON ROLE %2$I IS %4$L', $1::text, $2::text, $3::text, $4::text) AS takeover,
            format($5::text || CASE WHEN su.superuser THEN $6::text ELSE '' END, $2::text, $7::text, $8::text, $9::text, $10::text) AS limits
       FROM (SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS superuser) su`,
    [
      spare.roleName,
      credentials.roleName,
      scramVerifier(credentials.password),
      markerFor(orgId),
      LIMITS_TEMPLATE,
      TEMP_FILE_LIMIT_TEMPLATE,
      ...limitValues(limits),
    ],
  );
  const [found] = rows;
  if (found.spareMarker !== spareMarkerFor(spare.id) || found.taken) return undefined;
  return { statements: `${found.takeover}; ${found.limits}`, limits: { skipped: found.superuser ? [] : ['temp_file_limit'] } };
}

/** What `dropRole` did: `in_use` when the role still owns or may use something on the server (kept). */
export type DropRoleOutcome = 'dropped' | 'absent' | 'in_use' | 'foreign';

/**
 * Drops the organization's role on the server of `adminUrl`, after its database was dropped (a
 * purge, or the source of a move). A role that still owns or is granted anything on the server
 * (another database uses it) is kept, as is one without our marker.
 */
export function dropRole(adminUrl: string, orgId: string, roleName: string): Promise<DropRoleOutcome> {
  return dropMarkedRole(adminUrl, markerFor(orgId), roleName);
}

/** Drops a spare database's role (the spare's database was dropped); kept like an organization's when in use. */
export function dropSpareRole(adminUrl: string, spareId: string, roleName: string): Promise<DropRoleOutcome> {
  return dropMarkedRole(adminUrl, spareMarkerFor(spareId), roleName);
}

async function dropMarkedRole(adminUrl: string, marker: string, roleName: string): Promise<DropRoleOutcome> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ marker: string | null }>(`SELECT shobj_description(oid, 'pg_authid') AS marker FROM pg_roles WHERE rolname = $1`, [
      roleName,
    ]);
    if (rows.length === 0) return 'absent';
    if (rows[0].marker !== marker) return 'foreign';
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

/**
 * Everything in schema public not owned by the role, as ALTER statements (extension members
 * excluded). ALTER TABLE also moves a table's indexes and the sequences it owns (serial and
 * identity columns), which refuse to change owner on their own, so those are not listed.
 */
const OBJECTS_TO_MOVE = `
  SELECT format('ALTER %s %I.%I OWNER TO %I',
                CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                n.nspname, c.relname, $1::text) AS statement
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  UNION ALL
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

/** `work` in one transaction on its own connection to `url`: all of it happens, or none. */
function inTransaction<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  return withClient(url, async (client) => {
    await client.query('BEGIN');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
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

/**
 * PBKDF2 iterations of the organization roles' SCRAM verifiers. A client logging in computes
 * PBKDF2 with the count the verifier holds, on every new connection (PostgreSQL itself only
 * compares HMACs at login); 4,096, PostgreSQL's own fixed count, is meant to slow down guessing a
 * human password from a stolen verifier. Our passwords are 32 random bytes (256 bits): no count
 * makes guessing them feasible or not, so the cost is only paid by our own cold connections.
 * Not 1, which some auditing tools flag as a misconfiguration.
 */
export const SCRAM_ITERATIONS = 16;

/** PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802/7677), as CREATE ROLE … PASSWORD accepts it. */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
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
      /** The organization's database limits: the defaults with its overrides (apps/worker/src/limits/). */
      limitsOf: (orgId: string) => Promise<DatabaseLimits>;
      logger: Logger;
    },
  ) {}

  /**
   * Makes the organization's role exist on `server` and own its database there, then records it
   * granted: from then on connections log in as it. `shared` (nothing done) on a server
   * registered without tenant roles.
   */
  async provide(org: Pick<Organization, 'id' | 'databaseName'>, server: DatabaseServer): Promise<DatabaseRoleMode> {
    if (!server.tenantRoles) return 'shared';
    const credentials = await this.credentialsOf(org);
    const { role, moved, limits } = await ensureRoleOwning(server.adminUrl, org.databaseName, org.id, credentials, await this.deps.limitsOf(org.id));
    this.warnSkipped(server, limits);
    await this.deps.store.markGranted(org.id);
    this.deps.logger.info('organization database owned by its role', { server: server.name, role: credentials.roleName, outcome: role, objects: moved });
    return 'own';
  }

  /**
   * Sets the role's database limits (and its password's verifier) again: after an override changed,
   * for organizations made before the limits existed, or made with another SCRAM iteration count. `shared` on a server without tenant roles: its organizations share the
   * admin role, which gets no per-organization limits; `no_role` before the role was granted
   * (provisioning sets them when it makes the role).
   */
  async applyLimits(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<'applied' | 'shared' | 'no_role'> {
    if (!server.tenantRoles) return 'shared';
    const credentials = await this.deps.store.grantedCredentials(org.id);
    if (!credentials) return 'no_role';
    this.warnSkipped(server, await limitRole(server.adminUrl, org.id, credentials, await this.deps.limitsOf(org.id)));
    return 'applied';
  }

  private warnSkipped(server: DatabaseServer, outcome: RoleLimitsOutcome): void {
    for (const setting of outcome.skipped) {
      this.deps.logger.warn('database limit not set: the admin role is not a superuser', { server: server.name, setting });
    }
  }

  /**
   * A move's copy on `server` (made by the admin role) is given to the organization's role, which
   * `ensureOn` made there before the copy. Recorded granted only at the switch (`recordGranted`).
   */
  async ownCopy(org: Pick<Organization, 'id'>, server: DatabaseServer, copyName: string): Promise<void> {
    if (!server.tenantRoles) return;
    const moved = await grantOwnership(server.adminUrl, copyName, roleNameFor(org.id, this.deps.databasePrefix));
    this.deps.logger.info('organization database copy owned by its role', { server: server.name, objects: moved });
  }

  /** Connections log in as the organization's role from now on (its database on `server` is owned by it). */
  async recordGranted(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<DatabaseRoleMode> {
    if (!server.tenantRoles) return 'shared';
    await this.deps.store.markGranted(org.id);
    return 'own';
  }

  /** Whether the organization should get its role on `server` and has none yet (what a fleet run gives it). */
  async lacksRole(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<boolean> {
    return server.tenantRoles && !(await this.deps.store.withGrantedRoles([org.id])).has(org.id);
  }

  /** Those of `orgIds` that have a granted role. */
  grantedAmong(orgIds: string[]): Promise<Set<string>> {
    return this.deps.store.withGrantedRoles(orgIds);
  }

  /** The name of each granted role among `orgIds`: what a fleet migration acts as (SET ROLE) on its admin connection. */
  grantedRoleNames(orgIds: string[]): Promise<Map<string, string>> {
    return this.deps.store.grantedRoleNames(orgIds);
  }

  /** The role exists on `server` with its one password (a move's target, before anything is copied); nothing on a shared server. */
  async ensureOn(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<void> {
    if (!server.tenantRoles) return;
    const credentials = await this.credentialsOf(org);
    const outcome = await ensureRole(server.adminUrl, org.id, credentials, await this.deps.limitsOf(org.id));
    this.deps.logger.debug('organization role ensured', { server: server.name, role: credentials.roleName, outcome });
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

  /**
   * What a claim of a spare needs to make the spare's role the organization's (`takeSpareRoleWith`),
   * or undefined on a server without tenant roles.
   */
  async forClaim(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<{ credentials: TenantRoleCredentials; limits: DatabaseLimits } | undefined> {
    if (!server.tenantRoles) return undefined;
    const [credentials, limits] = await Promise.all([this.credentialsOf(org), this.deps.limitsOf(org.id)]);
    return { credentials, limits };
  }

  /** Its role's name and password, made up and recorded the first time. */
  private credentialsOf(org: Pick<Organization, 'id'>): Promise<TenantRoleCredentials> {
    return this.deps.store.ensureCredentials(org.id, roleNameFor(org.id, this.deps.databasePrefix));
  }

  private async loginOf(org: Pick<Organization, 'id'>, server: DatabaseServer): Promise<DatabaseLogin | undefined> {
    if (!server.tenantRoles) return undefined;
    const credentials = await this.deps.store.grantedCredentials(org.id);
    return credentials && { user: credentials.roleName, password: credentials.password };
  }
}

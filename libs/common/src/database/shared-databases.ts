import { Client } from 'pg';
import type { Logger } from '../logger';

/**
 * Every PostgreSQL server has these, and by default PUBLIC may CONNECT to them (and create TEMP
 * tables): an organization's own login role could log in there. template0 takes no connections.
 */
export const SERVER_DATABASES = ['postgres', 'template1'];

export interface LockDownOutcome {
  /** Databases whose CONNECT and TEMPORARY were taken from PUBLIC just now. */
  revoked: string[];
  /** The statements an owner or superuser must run because this role may not (also logged as a warning). */
  manual: string[];
}

/** Per database: whether PUBLIC still may enter it, and whether the connected role may change that (superuser or a member of its owner). */
const STATE = `
  SELECT d.datname AS database,
         EXISTS (SELECT 1 FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
                  WHERE a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY')) AS public_may_connect,
         (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role(current_user, d.datdba, 'USAGE') AS may_revoke
    FROM pg_database d
   WHERE d.datname = ANY($1::text[])
   ORDER BY d.datname`;

/**
 * Roles of `keep` that would lose CONNECT on the database with PUBLIC's: those neither superuser
 * nor members of its owner. GRANT statements built by the server with format(%I), as is REVOKE.
 */
const STATEMENTS = `
  SELECT statement FROM (
    SELECT 1 AS step, format('GRANT CONNECT ON DATABASE %I TO %I', $1::text, r.rolname) AS statement
      FROM pg_roles r, pg_database d
     WHERE d.datname = $1 AND r.rolname = ANY($2::text[]) AND NOT r.rolsuper AND NOT pg_has_role(r.oid, d.datdba, 'USAGE')
    UNION ALL
    SELECT 2, format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', $1::text)
  ) s ORDER BY step, statement`;

/**
 * Takes CONNECT and TEMPORARY on `databases` (those that exist on the server of `url`) away from
 * PUBLIC, so that organizations' roles, which exist server-wide, cannot log in to the control
 * database (and LISTEN to every organization's webhook notifications), `postgres`, `template1`
 * or our template. The connected role and the roles in `keep` (the service's own) keep CONNECT:
 * granted explicitly unless superuser or owner. A database already closed to PUBLIC is left
 * alone, so this converges and costs one query once done. Where the connected role may not change
 * a database's grants, nothing fails: the exact SQL for an operator is logged as a warning.
 */
export async function lockDownSharedDatabases(url: string, databases: string[], keep: string[], logger: Logger): Promise<LockDownOutcome> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a terminated session surfaces on the next query instead
  await client.connect();
  try {
    const outcome: LockDownOutcome = { revoked: [], manual: [] };
    await client.query('BEGIN');
    // Concurrent GRANTs on one database fail ("tuple concurrently updated"): APIs and workers start together.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('orgms:shared-databases'))`);
    const { rows } = await client.query<{ database: string; public_may_connect: boolean; may_revoke: boolean }>(STATE, [databases]);
    const { rows: me } = await client.query<{ role: string }>('SELECT session_user AS role');
    const roles = [...new Set([me[0].role, ...keep])];
    for (const { database, may_revoke } of rows.filter((row) => row.public_may_connect)) {
      const { rows: statements } = await client.query<{ statement: string }>(STATEMENTS, [database, roles]);
      if (!may_revoke) {
        outcome.manual.push(...statements.map((s) => `${s.statement};`));
        continue;
      }
      await client.query(statements.map((s) => s.statement).join(';\n'));
      outcome.revoked.push(database);
    }
    await client.query('COMMIT');
    if (outcome.revoked.length > 0) logger.info('shared databases closed to organization roles', { databases: outcome.revoked });
    if (outcome.manual.length > 0) {
      logger.warn('organization roles may still connect to shared databases: this role may not revoke it; run as their owner or a superuser', {
        sql: outcome.manual.join(' '),
      });
    }
    return outcome;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

import { DATABASE_SERVER_STATUSES, type DatabaseServerStatus, type NewDatabaseServer } from '@orgms/common/fleet/database-server-store';
import { SERVER_URL_PARAMETERS, serverUrlProblem } from '@orgms/common/fleet/server-urls';
import Joi from 'joi';
import { requestShape } from '../http/common.schemas';

/** Server names are ours to show and to log: a short lower-case slug. */
export const databaseServerName = Joi.string()
  .pattern(/^[a-z][a-z0-9-]{0,62}$/)
  .messages({ 'string.pattern.base': '{{#label}} must be lower-case letters, digits and dashes, starting with a letter' })
  .description('The name of a database server (`GET /database-servers`).')
  .example('pg-b');

/** A server URL: `postgres://user:password@host:port/db`, with only the parameters `serverUrlProblem` allows. */
const postgresUrl = Joi.string()
  .uri({ scheme: ['postgres', 'postgresql'] })
  .max(2000)
  .custom((value: string, helpers) => {
    const problem = serverUrlProblem(value);
    return problem ? helpers.error('string.serverUrl', { problem }) : value;
  })
  .messages({ 'string.serverUrl': '{#label} {#problem}' });

export interface NewDatabaseServerBody {
  name: string;
  admin_url: string;
  pool_url?: string | null;
  capacity: number;
  connection_budget: number;
  status?: DatabaseServerStatus;
  tenant_roles?: boolean;
}

export const createDatabaseServerBody = requestShape<NewDatabaseServerBody>({
  name: databaseServerName.required(),
  admin_url: postgresUrl
    .required()
    .description(
      'A role with CREATEDB on the server; its database part is ignored. Stored encrypted, never shown with its password. ' +
        `The password goes in the user part (postgres://user:password@host/…); the only parameters allowed are ${SERVER_URL_PARAMETERS.join(', ')}.`,
    )
    .example('postgres://orgms:secret@10.0.0.12:5432/postgres'),
  pool_url: postgresUrl
    .allow(null)
    .description('A PgBouncer (transaction pooling) in front of the server, for tenant connections; null or absent: direct. Same rules as admin_url.')
    .example('postgres://orgms:secret@10.0.0.12:6432/postgres'),
  capacity: Joi.number().integer().min(0).max(1000000).required().description('Organizations (not deleted) it may hold.').example(500),
  connection_budget: Joi.number().integer().min(1).max(10000).required().description('Tenant connections one API process may hold to it.').example(40),
  status: Joi.string()
    .valid(...DATABASE_SERVER_STATUSES)
    .description('`active` (default) takes new organizations; `draining` and `disabled` do not.'),
  tenant_roles: Joi.boolean()
    .description(
      'true (default): each organization on it gets its own login role, so the admin role needs CREATEROLE. ' +
        'false: its organizations use the admin role (for managed PostgreSQL that refuses CREATE ROLE).',
    )
    .example(true),
});

/** The server a valid body registers (`POST /database-servers` and `npm run servers:add`). */
export function newDatabaseServerOf(body: NewDatabaseServerBody): NewDatabaseServer {
  return {
    name: body.name,
    adminUrl: body.admin_url,
    poolUrl: body.pool_url ?? null,
    capacity: body.capacity,
    connectionBudget: body.connection_budget,
    status: body.status,
    tenantRoles: body.tenant_roles,
  };
}

export interface DatabaseServerChangesBody {
  admin_url?: string;
  pool_url?: string | null;
  capacity?: number;
  connection_budget?: number;
  status?: DatabaseServerStatus;
}

export const updateDatabaseServerBody = requestShape<DatabaseServerChangesBody>({
  admin_url: postgresUrl.description('Checked like a new server’s.'),
  pool_url: postgresUrl.allow(null).description('null removes the pool: tenant connections go direct.'),
  capacity: Joi.number().integer().min(0).max(1000000),
  connection_budget: Joi.number().integer().min(1).max(10000),
  status: Joi.string().valid(...DATABASE_SERVER_STATUSES),
}).min(1);

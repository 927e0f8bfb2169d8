import { Router } from 'express';
import { idParams } from '../http/common.schemas';
import { validate, validated } from '../http/validate';
import { type Authentication, requireRole } from '../sign-in/authenticate';
import { presentDatabaseServer, presentDatabaseServerList } from './database-server.presenter';
import { createDatabaseServerBody, newDatabaseServerOf, updateDatabaseServerBody } from './database-servers.schemas';
import type { DatabaseServersService } from './database-servers.service';

/**
 * @openapi
 * tags: [{ name: Database servers }]
 * /database-servers:
 *   get:
 *     summary: List the PostgreSQL servers organization databases live on
 *     description: Platform admins only. Each server with its capacity, what it holds and its status; URLs with passwords masked.
 *     x-problems: [Forbidden]
 *     responses:
 *       '200': { $ref: '#/components/responses/DatabaseServerList' }
 *   post:
 *     summary: Register a PostgreSQL server
 *     description: |
 *       Platform admins only. The admin URL must connect and its role must be allowed to create databases (400 with the
 *       reason otherwise). Its role must also be allowed to create roles (`CREATEROLE`), because each organization gets
 *       its own login role; on a server where that is not possible (managed PostgreSQL), send `tenant_roles: false` to
 *       have its organizations use the admin role (their answers then say `database_role: shared`); without it, 400.
 *       URLs are stored encrypted with `SECRETS_KEY` and never returned with their password.
 *       An `active` server takes new organizations at once (placement: most free capacity first).
 *     requestBody: { $ref: '#/components/requestBodies/NewDatabaseServer' }
 *     x-problems: [Forbidden, Conflict]
 *     responses:
 *       '201': { $ref: '#/components/responses/DatabaseServerRegistered' }
 * /database-servers/{id}:
 *   parameters: [{ $ref: '#/components/parameters/DatabaseServerId' }]
 *   get:
 *     summary: Read one database server
 *     description: Platform admins only.
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/DatabaseServer' }
 *   patch:
 *     summary: Change a database server (capacity, budget, pool, status, credentials)
 *     description: |
 *       Platform admins only. `draining` or `disabled` stops new placements (use `POST /database-servers/{id}/drain` to
 *       move its organizations off). A new admin URL is checked like a new server's. Every process sees the change
 *       within 5 s; tenant pools on the server are rebuilt with the new settings.
 *     requestBody: { $ref: '#/components/requestBodies/DatabaseServerChanges' }
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/DatabaseServer', description: 'The changed server.' }
 */
export function databaseServersRoutes(deps: { authentication: Authentication; databaseServers: DatabaseServersService }): Router {
  const { databaseServers } = deps;
  const router = Router();
  const platformAdmin = [deps.authentication.required, requireRole('platform_admin')];

  router.get('/database-servers', ...platformAdmin, async (_req, res) => {
    res.json(presentDatabaseServerList(await databaseServers.list()));
  });

  router.post('/database-servers', ...platformAdmin, validate({ body: createDatabaseServerBody }), async (_req, res) => {
    const server = await databaseServers.add(newDatabaseServerOf(validated(res, createDatabaseServerBody)));
    res.status(201).location(`/database-servers/${server.id}`).json(presentDatabaseServer(server));
  });

  router.get('/database-servers/:id', ...platformAdmin, validate({ params: idParams }), async (_req, res) => {
    res.json(presentDatabaseServer(await databaseServers.get(validated(res, idParams).id)));
  });

  router.patch('/database-servers/:id', ...platformAdmin, validate({ params: idParams, body: updateDatabaseServerBody }), async (_req, res) => {
    const body = validated(res, updateDatabaseServerBody);
    const server = await databaseServers.update(validated(res, idParams).id, {
      adminUrl: body.admin_url,
      poolUrl: body.pool_url,
      capacity: body.capacity,
      connectionBudget: body.connection_budget,
      status: body.status,
    });
    res.json(presentDatabaseServer(server));
  });

  return router;
}

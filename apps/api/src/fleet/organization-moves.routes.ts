import { Router } from 'express';
import { presentServerDrain } from '../fleet-migrations/tracked-run.presenter';
import { idParams } from '../http/common.schemas';
import { retryAfter } from '../http/retry-after';
import { validate, validated } from '../http/validate';
import { presentOrganization } from '../organizations/organization.presenter';
import { type Authentication, requireRole } from '../sign-in/authenticate';
import type { DrainsService } from './drains.service';
import { drainParams, moveOrganizationBody } from './moves.schemas';
import type { MovesService } from './moves.service';

/**
 * @openapi
 * tags: [{ name: Database servers }]
 * /organizations/{id}/move:
 *   post:
 *     summary: Move an organization's database to another server
 *     description: |
 *       Platform admins only. The organization becomes `moving` (`database_server` stays the source until the switch) and
 *       the worker stops writes on the source, copies the database to the named server, verifies the copy (schema version,
 *       row counts), switches to it and drops the source; then it is `active` again on the target. While it moves, reads
 *       work and writes answer 503 with `Retry-After`. A move that fails for good is rolled back: the organization stays
 *       `active` on its server, with `last_error` saying why. Follow `Location` (`GET /organizations/{id}/status`).
 *       400 when no server has that name; 409 when it is the organization's own server, takes no new organizations
 *       (`draining`, `disabled`) or the organization is not `active` (`current_status`); 503 with `Retry-After` when the
 *       server is full or unreachable.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     requestBody: { $ref: '#/components/requestBodies/OrganizationMove' }
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '202': { $ref: '#/components/responses/OrganizationMoving' }
 * /database-servers/{id}/drain:
 *   post:
 *     summary: Move every organization off a database server
 *     description: |
 *       Platform admins only. The server becomes `draining` at once (no new organizations), then the worker moves each
 *       organization active on it, one at a time, to the server placement chooses among the other active ones. Follow
 *       `Location` for progress. Organizations whose move fails stay on the server, `active` (listed in `failures`);
 *       ones that are not active when their turn comes are skipped. 503 when the job queue is unavailable (no drain is started).
 *     parameters: [{ $ref: '#/components/parameters/DatabaseServerId' }]
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '202': { $ref: '#/components/responses/DrainStarted' }
 * /database-servers/{id}/drains/{drainId}:
 *   get:
 *     summary: Read one drain (progress, failures)
 *     description: Platform admins only. Totals, progress (0–1) and each organization whose move failed, with its error. `Retry-After` until completed.
 *     parameters: [{ $ref: '#/components/parameters/DatabaseServerId' }, { $ref: '#/components/parameters/DrainId' }]
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/Drain' }
 */
export function organizationMovesRoutes(deps: { authentication: Authentication; moves: MovesService; drains: DrainsService }): Router {
  const { moves, drains } = deps;
  const router = Router();
  const platformAdmin = [deps.authentication.required, requireRole('platform_admin')];

  router.post('/organizations/:id/move', ...platformAdmin, validate({ params: idParams, body: moveOrganizationBody }), async (_req, res) => {
    const org = await moves.move(validated(res, idParams).id, validated(res, moveOrganizationBody).database_server, res.locals.requestId);
    retryAfter(res.status(202).location(`/organizations/${org.id}`)).json(presentOrganization(org));
  });

  router.post('/database-servers/:id/drain', ...platformAdmin, validate({ params: idParams }), async (_req, res) => {
    const serverId = validated(res, idParams).id;
    const drain = await drains.drain(serverId, res.locals.requestId);
    res.status(202).location(`/database-servers/${serverId}/drains/${drain.id}`).json(presentServerDrain(drain));
  });

  router.get('/database-servers/:id/drains/:drainId', ...platformAdmin, validate({ params: drainParams }), async (_req, res) => {
    const params = validated(res, drainParams);
    const drain = await drains.getDrain(params.id, params.drainId);
    if (drain.status !== 'completed') retryAfter(res);
    res.json(presentServerDrain(drain));
  });

  return router;
}

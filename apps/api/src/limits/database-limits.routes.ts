import { Router } from 'express';
import { presentDatabaseLimitsRun } from '../fleet-migrations/tracked-run.presenter';
import { idParams } from '../http/common.schemas';
import { retryAfter } from '../http/retry-after';
import { validate, validated } from '../http/validate';
import { type Authentication, requireRole } from '../sign-in/authenticate';
import type { DatabaseLimitRunsService } from './database-limit-runs.service';

/**
 * @openapi
 * tags: [{ name: Migrations }]
 * /database-limits/runs:
 *   post:
 *     summary: Set every organization's database limits on its role
 *     description: |
 *       Platform admins only (the same as `npm run limits:apply`). Starts a tracked run: the worker sets, on the role of
 *       each active organization, `CONNECTION LIMIT`, `statement_timeout`, `idle_in_transaction_session_timeout` and
 *       (with a superuser admin role) `temp_file_limit`, from the defaults with the organization's overrides. For
 *       organizations made before the limits existed, or after the defaults changed. Organizations on servers without
 *       organization roles are skipped: they share the server's role. 503 when the job queue is unavailable (no run is started).
 *     x-problems: [Forbidden]
 *     responses:
 *       '202': { $ref: '#/components/responses/DatabaseLimitsRunStarted' }
 * /database-limits/runs/{id}:
 *   get:
 *     summary: Read one database limits run (progress, failures)
 *     description: Platform admins only. Totals, progress (0–1) and each failed organization with its error. `Retry-After` until completed.
 *     parameters: [{ $ref: '#/components/parameters/DatabaseLimitsRunId' }]
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/DatabaseLimitsRun' }
 */
export function databaseLimitsRoutes(deps: { authentication: Authentication; databaseLimitRuns: DatabaseLimitRunsService }): Router {
  const { databaseLimitRuns } = deps;
  const router = Router();
  const platformAdmin = [deps.authentication.required, requireRole('platform_admin')];

  router.post('/database-limits/runs', ...platformAdmin, async (_req, res) => {
    const run = await databaseLimitRuns.start(res.locals.requestId);
    res.status(202).location(`/database-limits/runs/${run.id}`).json(presentDatabaseLimitsRun(run));
  });

  router.get('/database-limits/runs/:id', ...platformAdmin, validate({ params: idParams }), async (_req, res) => {
    const run = await databaseLimitRuns.get(validated(res, idParams).id);
    if (run.status !== 'completed') retryAfter(res);
    res.json(presentDatabaseLimitsRun(run));
  });

  return router;
}

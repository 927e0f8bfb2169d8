import { Router } from 'express';
import { presentOrphans } from '../fleet/orphan.presenter';
import type { OrphansService } from '../fleet/orphans.service';
import { retryAfter } from '../http/retry-after';
import { validate, validated } from '../http/validate';
import { listMigrationRunsQuery, migrationRunParams } from '../organizations/lifecycle.schemas';
import { type Authentication, requireRole } from '../sign-in/authenticate';
import type { MigrationRunsService } from './migration-runs.service';
import { presentMigrationRun, presentMigrationRunPage } from './tracked-run.presenter';

/** Fleet migrations and the orphan report: operators' routes, platform admins only. */
/**
 * @openapi
 * tags: [{ name: Migrations }]
 * /migrations/runs:
 *   post:
 *     summary: Migrate every organization database to the latest tenant migration
 *     description: |
 *       Platform admins only. Starts a fleet run (the same as `npm run tenants:migrate`): the worker upgrades the template
 *       database first, then migrates each active organization in its own job (at most `MIGRATION_CONCURRENCY` at once),
 *       so one broken database fails alone. Organizations already current are skipped without connecting to them.
 *       503 when the job queue is unavailable (no run is started).
 *     x-problems: [Forbidden]
 *     responses:
 *       '202': { $ref: '#/components/responses/MigrationRunStarted' }
 *   get:
 *     summary: List recent migration runs
 *     description: Platform admins only. Newest first, with totals (no per-organization failures; read one run for those). Follow `next_cursor` until it is null.
 *     parameters: [{ $ref: '#/components/parameters/Limit' }, { $ref: '#/components/parameters/Cursor' }]
 *     x-problems: [Forbidden]
 *     responses:
 *       '200': { $ref: '#/components/responses/MigrationRunPage' }
 * /migrations/runs/{id}:
 *   get:
 *     summary: Read one migration run (progress, failures)
 *     description: Platform admins only. Totals, progress (0–1) and each failed organization with its error. `Retry-After` until completed.
 *     parameters: [{ $ref: '#/components/parameters/MigrationRunId' }]
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/MigrationRun' }
 * /admin/orphans:
 *   get:
 *     tags: [Operations]
 *     summary: Orphaned databases and organizations
 *     description: |
 *       Platform admins only. Compares the database server with the control plane, both ways: databases carrying our
 *       organization marker that no live organization owns (`database_without_organization`), and active organizations
 *       whose database is missing (`organization_without_database`). Read-only: nothing is ever dropped automatically.
 *     x-problems: [Forbidden]
 *     responses:
 *       '200': { $ref: '#/components/responses/Orphans' }
 */
export function migrationsRoutes(deps: { authentication: Authentication; migrationRuns: MigrationRunsService; orphans: OrphansService }): Router {
  const { migrationRuns, orphans } = deps;
  const router = Router();
  const platformAdmin = [deps.authentication.required, requireRole('platform_admin')];

  router.post('/migrations/runs', ...platformAdmin, async (_req, res) => {
    const run = await migrationRuns.start(res.locals.requestId);
    res.status(202).location(`/migrations/runs/${run.id}`).json(presentMigrationRun(run));
  });

  router.get('/migrations/runs', ...platformAdmin, validate({ query: listMigrationRunsQuery }), async (_req, res) => {
    const page = await migrationRuns.list(validated(res, listMigrationRunsQuery));
    res.json(presentMigrationRunPage(page));
  });

  router.get('/migrations/runs/:id', ...platformAdmin, validate({ params: migrationRunParams }), async (_req, res) => {
    const run = await migrationRuns.get(validated(res, migrationRunParams).id);
    if (run.status !== 'completed') retryAfter(res);
    res.json(presentMigrationRun(run));
  });

  router.get('/admin/orphans', ...platformAdmin, async (_req, res) => {
    res.json(presentOrphans(await orphans.list()));
  });

  return router;
}

import { ServiceUnavailableError, startMigrationRun } from '@orgms/common';
import { Router } from 'express';
import type { AppContext } from '../app-context';
import { authenticate, requireRole } from '../auth/authenticate';
import { retryAfter } from '../http/retry-after';
import { validate, validated } from '../http/validate';
import { presentMigrationRun, presentMigrationRunSummary } from '../presenters/migration-run.presenter';
import { pageQuery, withCursor } from '../services/pagination';
import { listMigrationRunsQuery, migrationRunParams } from '../validation/lifecycle.schemas';

/** Fleet migrations (issue 4) and the orphan report: operators' routes, platform admins only. */
/**
 * @openapi
 * components:
 *   schemas:
 *     MigrationRun:
 *       type: object
 *       properties:
 *         id: { type: string, format: uuid }
 *         status: { type: string, enum: [queued, running, completed] }
 *         target_version: { type: string, example: AddUserLastLogin1732300000000 }
 *         template: { type: [string, 'null'], example: template migrated }
 *         total: { type: integer, example: 20 }
 *         succeeded: { type: integer, example: 19 }
 *         failed: { type: integer, example: 1 }
 *         skipped: { type: integer, example: 0 }
 *         pending: { type: integer, example: 0 }
 *         progress: { type: number, minimum: 0, maximum: 1, example: 1 }
 *         created_at: { type: string, format: date-time }
 *         started_at: { type: [string, 'null'], format: date-time }
 *         finished_at: { type: [string, 'null'], format: date-time }
 *         failures:
 *           type: array
 *           items:
 *             type: object
 *             properties:
 *               org_id: { type: string, format: uuid }
 *               error: { type: string, example: 'migrate: unexpected error (SQLSTATE 42701); see the worker log' }
 *               finished_at: { type: [string, 'null'], format: date-time }
 * /migrations/runs:
 *   post:
 *     tags: [Migrations]
 *     summary: Migrate every organization database to the latest tenant migration
 *     description: |
 *       Platform admins only. Starts a fleet run (the same as `npm run tenants:migrate`): the worker upgrades the template
 *       database first, then migrates each active organization in its own job (at most `MIGRATION_CONCURRENCY` at once),
 *       so one broken database fails alone. Organizations already current are skipped without connecting to them.
 *     responses:
 *       '202':
 *         description: Run started; follow `Location`.
 *         content: { application/json: { schema: { $ref: '#/components/schemas/MigrationRun' } } }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '503': { $ref: '#/components/responses/ServiceUnavailable' }
 *   get:
 *     tags: [Migrations]
 *     summary: List recent migration runs
 *     description: Platform admins only. Newest first, with totals (no per-organization failures; read one run for those).
 *     parameters:
 *       - { name: limit, in: query, required: false, schema: { type: integer, minimum: 1, maximum: 100, default: 20 } }
 *       - { name: cursor, in: query, required: false, schema: { type: string }, description: 'next_cursor of the previous page' }
 *     responses:
 *       '200':
 *         description: The runs.
 *         content:
 *           application/json:
 *             schema: { type: object, properties: { items: { type: array, items: { $ref: '#/components/schemas/MigrationRun' } }, next_cursor: { type: 'null' } } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 * /migrations/runs/{id}:
 *   get:
 *     tags: [Migrations]
 *     summary: Read one migration run (progress, failures)
 *     description: Platform admins only. Totals, progress (0–1) and each failed organization with its error. `Retry-After` until completed.
 *     parameters: [{ name: id, in: path, required: true, schema: { type: string, format: uuid } }]
 *     responses:
 *       '200': { description: The run., content: { application/json: { schema: { $ref: '#/components/schemas/MigrationRun' } } } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 * /admin/orphans:
 *   get:
 *     tags: [Operations]
 *     summary: Orphaned databases and organizations
 *     description: |
 *       Platform admins only. Compares the database server with the control plane, both ways: databases carrying our
 *       organization marker that no live organization owns (`database_without_organization`), and active organizations
 *       whose database is missing (`organization_without_database`). Read-only: nothing is ever dropped automatically.
 *     responses:
 *       '200':
 *         description: The orphans found now.
 *         content:
 *           application/json:
 *             schema:
 *               type: object
 *               properties:
 *                 items:
 *                   type: array
 *                   items:
 *                     type: object
 *                     properties:
 *                       kind: { type: string, enum: [database_without_organization, organization_without_database] }
 *                       database: { type: string, example: org_4f0c2a7e9d1b4c1e8f001234567890ab }
 *                       org_id: { type: string, format: uuid }
 *                       status: { type: [string, 'null'] }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 */
export function migrationsRoutes(ctx: AppContext): Router {
  const router = Router();
  const platformAdmin = [authenticate(ctx.passport), requireRole('platform_admin')];

  router.post('/migrations/runs', ...platformAdmin, async (_req, res) => {
    let runId: string;
    try {
      runId = await startMigrationRun(ctx.lifecycle.migrationRuns, ctx.lifecycle.migrationsQueue, res.locals.requestId);
    } catch (error) {
      ctx.logger.warn('could not start a migration run', { error: (error as Error).message });
      throw new ServiceUnavailableError('The job queue is unavailable; no run was started. Try again shortly.');
    }
    const run = await ctx.lifecycle.migrationRuns.get(runId);
    res.status(202).location(`/migrations/runs/${runId}`).json(presentMigrationRun(run));
  });

  router.get('/migrations/runs', ...platformAdmin, validate({ query: listMigrationRunsQuery }), async (_req, res) => {
    const { limit, cursor } = validated<{ limit: number; cursor?: string }>(res, 'query');
    const page = withCursor(await ctx.lifecycle.migrationRuns.list(pageQuery({ limit, cursor })));
    res.json({ items: page.items.map(presentMigrationRunSummary), next_cursor: page.nextCursor });
  });

  router.get('/migrations/runs/:id', ...platformAdmin, validate({ params: migrationRunParams }), async (_req, res) => {
    const run = await ctx.lifecycle.migrationRuns.get(validated<{ id: string }>(res, 'params').id);
    if (run.status !== 'completed') retryAfter(res);
    res.json(presentMigrationRun(run));
  });

  router.get('/admin/orphans', ...platformAdmin, async (_req, res) => {
    const orphans = await ctx.lifecycle.findOrphans();
    res.json({ items: orphans.map((o) => ({ kind: o.kind, database: o.database, org_id: o.orgId, status: o.status ?? null })) });
  });

  return router;
}

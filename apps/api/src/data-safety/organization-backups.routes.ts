import { Router } from 'express';
import { idParams } from '../http/common.schemas';
import { pageQuery } from '../http/pagination';
import { retryAfter } from '../http/retry-after';
import { validate, validated } from '../http/validate';
import { presentOrganization } from '../organizations/organization.presenter';
import type { Authentication } from '../sign-in/authenticate';
import { type AuthorizeOrganization, organizationOf } from '../sign-in/authorize-organization';
import { backupParams, listBackupsQuery, restoreBackupBody } from './backups.schemas';
import { presentOrganizationBackup, presentOrganizationBackupPage } from './organization-backup.presenter';
import { backupUrl, type OrganizationBackupsService } from './organization-backups.service';
import { organizationToDump } from './organization-to-dump';

/**
 * @openapi
 * /organizations/{id}/backups:
 *   post:
 *     tags: [Organizations]
 *     summary: Back an organization's database up now
 *     description: |
 *       Platform admins and that organization's admins. The organization must be active (409 with `organization_status`
 *       otherwise). The worker writes `pg_dump -Fc` of the organization's database into BACKUP_DIR with a manifest of
 *       per-table row counts (taken in the dump's own snapshot), reads it back and checks its SHA-256; follow `Location`
 *       until it is `verified`. A manual backup expires BACKUP_MANUAL_TTL after it is verified. Scheduled backups need no
 *       request: every active organization is backed up once per BACKUP_INTERVAL.
 *
 *       One backup per organization at a time: while one is `queued` or `running`, another request answers 409 naming it
 *       (`backup_id`, `backup_url`).
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '202': { $ref: '#/components/responses/BackupQueued' }
 *       '409':
 *         description: The organization is not active (`organization_status`), or it has a backup queued or running (`backup_id`, `backup_url`).
 *         content:
 *           application/problem+json:
 *             schema: { $ref: '#/components/schemas/ConflictProblem' }
 *   get:
 *     tags: [Organizations]
 *     summary: List an organization's backups
 *     description: Platform admins and that organization's admins; newest first, in cursor pages. Another organization's admin gets 404.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/Limit' }, { $ref: '#/components/parameters/Cursor' }]
 *     x-problems: [BadRequest, Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/BackupPage' }
 * /organizations/{id}/backups/{backupId}:
 *   get:
 *     tags: [Organizations]
 *     summary: Read one backup
 *     description: Platform admins and that organization's admins. `Retry-After` while it is `queued` or `running`. 404 for a backup of another organization.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/BackupId' }]
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/Backup' }
 * /organizations/{id}/backups/{backupId}/restore:
 *   post:
 *     tags: [Organizations]
 *     summary: Restore a backup
 *     description: |
 *       Platform admins and that organization's admins; another organization's admin gets 404. Only a `verified` backup
 *       is restored (409 with `backup_status` otherwise).
 *
 *       `{"mode":"in_place"}` replaces the organization's data with the backup's: it goes `active → restoring → active`
 *       (202 with it `restoring`; follow `Location`). The worker stops writes, takes a `pre_restore` backup of the
 *       current data (so the restore itself can be undone), restores the backup into a staging database, checks its row
 *       counts against the backup's manifest, swaps it in for the live database and drops the old one. Meanwhile writes
 *       answer 503 with `Retry-After`; reads work until the swap. A restore that fails before the swap leaves the
 *       organization `active` on its old data, with `last_error`. 409 (`current_status`) while the organization is
 *       moving, deleted or restoring already.
 *
 *       `{"mode":"new_organization","organization_name":"…"}` makes a sandbox: a new organization (new id, database and
 *       role, placed like any new one) whose database is the backup's, its users and their passwords included (no admin
 *       is seeded). The organization the backup was taken of is not touched. Follow `Location` until the new one is
 *       `active`.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/BackupId' }]
 *     requestBody:
 *       required: true
 *       content:
 *         application/json:
 *           schema: { $ref: '#/components/schemas/BackupRestore' }
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '202': { $ref: '#/components/responses/OrganizationCreated' }
 *       '409':
 *         description: The backup is not verified (`backup_status`); in place, the organization is not active (`current_status`); a sandbox's name is taken.
 *         content:
 *           application/problem+json:
 *             schema: { $ref: '#/components/schemas/ConflictProblem' }
 */
export function organizationBackupsRoutes(deps: {
  authentication: Authentication;
  authorize: AuthorizeOrganization;
  backups: OrganizationBackupsService;
}): Router {
  const { authorize, backups } = deps;
  const router = Router();
  const auth = deps.authentication.required;
  const orgAdmin = authorize({ roles: ['org_admin'] });

  router.post(
    '/organizations/:id/backups',
    auth,
    validate({ params: idParams }),
    authorize({ roles: ['org_admin'], requireActive: true }),
    async (_req, res) => {
      const org = organizationToDump(res, 'backups');
      const created = await backups.create(org.id, res.locals.requestId);
      res.status(202).location(backupUrl(org.id, created.id)).json(presentOrganizationBackup(created));
    },
  );

  router.get('/organizations/:id/backups', auth, validate({ params: idParams, query: listBackupsQuery }), orgAdmin, async (_req, res) => {
    res.json(presentOrganizationBackupPage(await backups.list(organizationOf(res).id, pageQuery(validated(res, listBackupsQuery)))));
  });

  router.get('/organizations/:id/backups/:backupId', auth, validate({ params: backupParams }), orgAdmin, async (_req, res) => {
    const found = await backups.get(organizationOf(res).id, validated(res, backupParams).backupId);
    if (found.status === 'queued' || found.status === 'running') retryAfter(res);
    res.json(presentOrganizationBackup(found));
  });

  router.post(
    '/organizations/:id/backups/:backupId/restore',
    auth,
    validate({ params: backupParams, body: restoreBackupBody }),
    orgAdmin,
    async (_req, res) => {
      const source = organizationOf(res);
      const body = validated(res, restoreBackupBody);
      const { backupId } = validated(res, backupParams);
      const org =
        body.mode === 'in_place'
          ? await backups.restoreInPlace(source, backupId, res.locals.requestId)
          : await backups.restoreAsNewOrganization(source, backupId, body.organization_name as string, res.locals.requestId);
      retryAfter(res);
      res.status(202).location(`/organizations/${org.id}`).json(presentOrganization(org));
    },
  );

  return router;
}

import { pipeline } from 'node:stream/promises';
import { reprDigest } from '@orgms/common/data-safety/file-hash';
import { Router } from 'express';
import { idParams } from '../http/common.schemas';
import { retryAfter } from '../http/retry-after';
import { validate, validated } from '../http/validate';
import { type Authentication } from '../sign-in/authenticate';
import { type AuthorizeOrganization, organizationOf } from '../sign-in/authorize-organization';
import { exportParams } from './exports.schemas';
import { presentOrganizationExport } from './organization-export.presenter';
import { exportUrl, type OrganizationExportsService } from './organization-exports.service';
import { organizationToDump } from './organization-to-dump';

/**
 * @openapi
 * tags: [{ name: Organizations }]
 * /organizations/{id}/exports:
 *   post:
 *     summary: Export an organization's database (pg_dump custom format)
 *     description: |
 *       Platform admins and that organization's admins. The organization must be active (409 with `organization_status`
 *       otherwise). The worker writes `pg_dump -Fc` of the organization's database to the export directory, with its size
 *       and SHA-256; follow `Location` until the export is `ready`, then download it. A ready export expires after
 *       EXPORT_TTL_MS and its file is deleted.
 *
 *       One export per organization at a time: while one is `queued` or `running`, another request answers 409 naming it
 *       (`export_id`, `export_url`). While the ready exports use EXPORT_DISK_LIMIT_BYTES together, a new export answers
 *       503 `export-storage-full` with `Retry-After` (until the first of them expires), and nothing is recorded.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     x-problems: [Forbidden, NotFound, ExportConflict, ExportStorageFull]
 *     responses:
 *       '202': { $ref: '#/components/responses/ExportQueued' }
 * /organizations/{id}/exports/{exportId}:
 *   get:
 *     summary: Read one export
 *     description: Platform admins and that organization's admins. `Retry-After` while it is `queued` or `running`. 404 for an export of another organization.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/ExportId' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/Export' }
 * /organizations/{id}/exports/{exportId}/download:
 *   get:
 *     summary: Download a ready export
 *     description: |
 *       Platform admins and that organization's admins. The `pg_dump -Fc` archive (restore it with `pg_restore`), with its
 *       SHA-256 in `Repr-Digest` (RFC 9530). 409 with `export_status` while it is not ready (`queued`, `running`, `failed`);
 *       410 once it has expired; 404 for an export of another organization.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/ExportId' }]
 *     x-problems: [Forbidden, NotFound, Conflict, Gone]
 *     responses:
 *       '200': { $ref: '#/components/responses/ExportArchive' }
 */
export function organizationExportsRoutes(deps: {
  authentication: Authentication;
  authorize: AuthorizeOrganization;
  exports: OrganizationExportsService;
}): Router {
  const { authorize, exports } = deps;
  const router = Router();
  const auth = deps.authentication.required;
  const orgAdmin = authorize({ roles: ['org_admin'] });

  router.post(
    '/organizations/:id/exports',
    auth,
    validate({ params: idParams }),
    authorize({ roles: ['org_admin'], requireActive: true }),
    async (_req, res) => {
      const org = organizationToDump(res, 'exports');
      const created = await exports.create(org.id, res.locals.requestId);
      res.status(202).location(exportUrl(org.id, created.id)).json(presentOrganizationExport(created));
    },
  );

  router.get('/organizations/:id/exports/:exportId', auth, validate({ params: exportParams }), orgAdmin, async (_req, res) => {
    const found = await exports.get(organizationOf(res).id, validated(res, exportParams).exportId);
    if (found.status === 'queued' || found.status === 'running') retryAfter(res);
    res.json(presentOrganizationExport(found));
  });

  router.get('/organizations/:id/exports/:exportId/download', auth, validate({ params: exportParams }), orgAdmin, async (_req, res) => {
    const download = await exports.download(organizationOf(res), validated(res, exportParams).exportId);
    try {
      res.status(200);
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', String(download.size));
      res.setHeader('Content-Disposition', `attachment; filename="${download.fileName}"`);
      res.setHeader('Repr-Digest', reprDigest(download.export.sha256 as string));
      await pipeline(download.file.createReadStream({ autoClose: false }), res);
    } finally {
      await download.file.close();
    }
  });

  return router;
}

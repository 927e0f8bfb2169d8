import { pipeline } from 'node:stream/promises';
import { reprDigest } from '@orgms/common/data-safety/file-hash';
import { ConflictError } from '@orgms/common/errors';
import { Router } from 'express';
import { idParams } from '../http/common.schemas';
import { retryAfter } from '../http/retry-after';
import { validate, validated } from '../http/validate';
import { type Authentication } from '../sign-in/authenticate';
import { type AuthorizeOrganization, organizationOf } from '../sign-in/authorize-organization';
import { exportParams } from './exports.schemas';
import { presentOrganizationExport } from './organization-export.presenter';
import { exportUrl, type OrganizationExportsService } from './organization-exports.service';

/**
 * @openapi
 * /organizations/{id}/exports:
 *   post:
 *     tags: [Organizations]
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
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '202': { $ref: '#/components/responses/ExportQueued' }
 *       '409':
 *         description: The organization is not active (`organization_status`), or it has an export queued or running (`export_id`, `export_url`).
 *         content:
 *           application/problem+json:
 *             schema: { $ref: '#/components/schemas/ConflictProblem' }
 *             example: { type: 'https://orgms.dev/problems/conflict', title: Conflict, status: 409, detail: 'This organization has an export queued or running; one export at a time: follow it, or ask again once it is finished.', export_id: 3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a, export_url: /organizations/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab/exports/3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a, requestId: 0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980 }
 *       '503':
 *         description: The ready exports use the disk set aside for exports (`export-storage-full`), or a backing service is unavailable; ask again after `Retry-After`.
 *         headers:
 *           Retry-After: { description: 'Seconds to wait: until the first ready export expires (`export-storage-full`), or while the outage lasts.', schema: { type: integer, minimum: 0, examples: [3600] } }
 *         content:
 *           application/problem+json:
 *             schema: { $ref: '#/components/schemas/Problem' }
 *             example: { type: 'https://orgms.dev/problems/export-storage-full', title: Export storage full, status: 503, detail: The exports waiting to be downloaded use all the disk set aside for exports; ask again once older exports have expired., requestId: 0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980 }
 * /organizations/{id}/exports/{exportId}:
 *   get:
 *     tags: [Organizations]
 *     summary: Read one export
 *     description: Platform admins and that organization's admins. `Retry-After` while it is `queued` or `running`. 404 for an export of another organization.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/ExportId' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/Export' }
 * /organizations/{id}/exports/{exportId}/download:
 *   get:
 *     tags: [Organizations]
 *     summary: Download a ready export
 *     description: |
 *       Platform admins and that organization's admins. The `pg_dump -Fc` archive (restore it with `pg_restore`), with its
 *       SHA-256 in `Repr-Digest` (RFC 9530). 409 with `export_status` while it is not ready (`queued`, `running`, `failed`);
 *       410 once it has expired; 404 for an export of another organization.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/ExportId' }]
 *     x-problems: [Forbidden, NotFound, Conflict, Gone]
 *     responses:
 *       '200':
 *         description: The archive.
 *         headers:
 *           Content-Length: { required: true, description: The size of the archive in bytes., schema: { type: integer, minimum: 0, examples: [48213] } }
 *           Content-Disposition: { required: true, description: 'An attachment named `<organization slug>-<YYYY-MM-DD>.dump`.', schema: { type: string, pattern: '^attachment; filename="[a-z0-9-]+\.dump"$', examples: ['attachment; filename="acme-corp-2026-11-22.dump"'] } }
 *           Repr-Digest: { required: true, description: 'The SHA-256 of the archive (RFC 9530), base64 between colons; the export''s `sha256` is the same digest in hex.', schema: { type: string, pattern: '^sha-256=:[A-Za-z0-9+/]{43}=:$', examples: ['sha-256=:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=:'] } }
 *         content:
 *           application/octet-stream:
 *             schema: { type: string, format: binary }
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
      const org = organizationOf(res);
      // requireActive lets a `moving` organization through (its reads work); a dump needs it to stay where it is.
      if (org.status !== 'active')
        throw new ConflictError(`Organization ${org.id} is ${org.status}; exports need it to be active.`, { organization_status: org.status });
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

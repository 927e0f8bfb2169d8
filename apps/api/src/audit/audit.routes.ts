import { type RequestHandler, Router } from 'express';
import { validate, validated } from '../http/validate';
import { type Authentication, principalOf } from '../sign-in/authenticate';
import { type AuthorizeOrganization, organizationOf } from '../sign-in/authorize-organization';
import { auditQuery } from './audit.schemas';
import type { AuditService } from './audit.service';
import { presentAuditPage } from './audit-entry.presenter';

/**
 * @openapi
 * /audit:
 *   get:
 *     tags: [Audit]
 *     summary: Read the audit log
 *     description: |
 *       Newest first. Platform admins read every entry and may filter by organization, actor, action and time.
 *       Organization admins read only their own organization's entries (`organization_id` defaults to it; another
 *       organization's id answers 404); members get 403. Entries: `auth.login.succeeded`, `auth.login.failed` (the
 *       account tried when it exists, never the email or password), `auth.logout`, `auth.refresh.reused`,
 *       `user.created|updated|deleted`, `platform_admin.created|updated|deleted`, `organization.created|renamed|updated|deleted|restored|purged|retried|moved`,
 *       `database_server.created|updated|resealed|drain_started` (settings named, never a URL), `webhook.*`.
 *     parameters:
 *       - { $ref: '#/components/parameters/AuditOrganization' }
 *       - { $ref: '#/components/parameters/AuditActor' }
 *       - { $ref: '#/components/parameters/AuditAction' }
 *       - { $ref: '#/components/parameters/AuditFrom' }
 *       - { $ref: '#/components/parameters/AuditTo' }
 *       - { $ref: '#/components/parameters/Limit' }
 *       - { $ref: '#/components/parameters/Cursor' }
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200':
 *         description: A page of entries.
 *         content:
 *           application/json:
 *             schema: { $ref: '#/components/schemas/AuditEntryList' }
 *             example:
 *               items:
 *                 - { id: 0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e, at: '2026-12-05T04:10:00.000Z', actor: { kind: org_user, id: 7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d }, organization_id: 4f0c2a7e-9d1b-4c1e-8f00-1234567890ab, action: user.updated, target: { type: user, id: 9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b }, request_id: 3b2f7c1e-0d4a-4c5b-9e6f-7a8b9c0d1e2f, details: { changed: [is_active], before: { is_active: true }, after: { is_active: false } } }
 *                 - { id: 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f, at: '2026-12-05T04:09:00.000Z', actor: null, organization_id: 4f0c2a7e-9d1b-4c1e-8f00-1234567890ab, action: auth.login.failed, target: null, request_id: 5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a, details: { ip: 203.0.113.7 } }
 *               next_cursor: MjAyNi0xMi0wNVQwNDowOTowMC4wMDBafDFjMmQzZTRm
 */
/** `GET /audit`: every entry for platform admins, their own organization's for its admins. */
export function auditRoutes(deps: { authentication: Authentication; authorize: AuthorizeOrganization; audit: AuditService }): Router {
  const router = Router();
  // Organization admins go through THE organization check (their token against their own database), on the named or their own organization.
  const ownOrganizationAdmin = deps.authorize({
    roles: ['org_admin'],
    organizationId: (_req, res) => validated(res, auditQuery).organization_id ?? principalOf(res)?.org ?? '',
  });
  const platformAdminOrOwnOrganization: RequestHandler = (req, res, next) =>
    principalOf(res)?.role === 'platform_admin' ? next() : ownOrganizationAdmin(req, res, next);

  router.get('/audit', deps.authentication.required, validate({ query: auditQuery }), platformAdminOrOwnOrganization, async (_req, res) => {
    const query = validated(res, auditQuery);
    const organizationId = principalOf(res)?.role === 'platform_admin' ? query.organization_id : organizationOf(res).id;
    res.json(presentAuditPage(await deps.audit.list({ ...query, organizationId, actorId: query.actor_id })));
  });

  return router;
}

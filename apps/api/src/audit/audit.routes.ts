import { type RequestHandler, Router } from 'express';
import { validate, validated } from '../http/validate';
import { type Authentication, principalOf } from '../sign-in/authenticate';
import { type AuthorizeOrganization, organizationOf } from '../sign-in/authorize-organization';
import { auditQuery } from './audit.schemas';
import type { AuditService } from './audit.service';
import { presentAuditPage } from './audit-entry.presenter';

/**
 * @openapi
 * tags: [{ name: Audit }]
 * /audit:
 *   get:
 *     summary: Read the audit log
 *     description: |
 *       Newest first. Platform admins read every entry and may filter by organization, actor, action and time.
 *       Organization admins read only their own organization's entries (`organization_id` defaults to it; another
 *       organization's id answers 404); members get 403. Entries: `auth.login.succeeded`, `auth.login.failed` (the
 *       account tried when it exists, never the email or password), `auth.logout`, `auth.refresh.reused`,
 *       `user.created|updated|deleted`, `platform_admin.created|updated|deleted`, `organization.created|renamed|updated|deleted|restored|purged|retried|moved`,
 *       `database_server.created|updated|resealed|drain_started` (settings named, never a URL), `webhook.*`.
 *     parameters: [{ $ref: '#/components/parameters/AuditOrganization' }, { $ref: '#/components/parameters/AuditActor' }, { $ref: '#/components/parameters/AuditAction' },
 *       { $ref: '#/components/parameters/AuditFrom' }, { $ref: '#/components/parameters/AuditTo' }, { $ref: '#/components/parameters/Limit' }, { $ref: '#/components/parameters/Cursor' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/AuditEntryPage' }
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

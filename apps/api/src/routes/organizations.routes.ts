import { IN_PROGRESS_STATUSES, type Organization, type OrganizationStatus } from '@orgms/common';
import { type Response, Router } from 'express';
import type { AppContext } from '../app-context';
import { authenticate, requireRole } from '../auth/authenticate';
import { validate, validated } from '../http/validate';
import { presentOrganization, presentStatus } from '../presenters/organization.presenter';
import type { CreateOrganizationInput } from '../services/organizations.service';
import { idParams } from '../validation/common.schemas';
import { createOrganizationBody, listOrganizationsQuery } from '../validation/organizations.schemas';

/** How long a client should wait before polling an organization that is still being worked on. */
const POLL_AFTER_SECONDS = 2;

function hintPolling(res: Response, org: Organization): void {
  if (IN_PROGRESS_STATUSES.includes(org.status)) res.setHeader('Retry-After', String(POLL_AFTER_SECONDS));
}

export function organizationsRoutes(ctx: AppContext): Router {
  const router = Router();
  const platformAdmin = [authenticate(ctx.passport), requireRole('platform_admin')];
  // With self-signup anyone may create an organization; otherwise only platform admins.
  const mayCreate = ctx.config.allowSelfSignup ? [authenticate(ctx.passport, { optional: true })] : platformAdmin;

  router.post('/organizations', ...mayCreate, validate({ body: createOrganizationBody }), async (_req, res) => {
    const org = await ctx.organizations.create(validated<CreateOrganizationInput>(res, 'body'), res.locals.requestId);
    hintPolling(res, org);
    res.status(202).location(`/organizations/${org.id}`).json(presentOrganization(org));
  });

  router.get('/organizations', ...platformAdmin, validate({ query: listOrganizationsQuery }), async (_req, res) => {
    const page = await ctx.organizations.list(validated<{ status?: OrganizationStatus; limit: number; cursor?: string }>(res, 'query'));
    res.json({ items: page.items.map(presentOrganization), next_cursor: page.nextCursor });
  });

  router.get('/organizations/:id', ...platformAdmin, validate({ params: idParams }), async (_req, res) => {
    const org = await ctx.organizations.get(validated<{ id: string }>(res, 'params').id);
    hintPolling(res, org);
    res.json(presentOrganization(org));
  });

  router.get('/organizations/:id/status', ...platformAdmin, validate({ params: idParams }), async (_req, res) => {
    const org = await ctx.organizations.get(validated<{ id: string }>(res, 'params').id);
    hintPolling(res, org);
    res.json(presentStatus(org));
  });

  return router;
}

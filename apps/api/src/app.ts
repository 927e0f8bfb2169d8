import type { Clock } from '@orgms/common/clock';
import type { Config } from '@orgms/common/config';
import { ServiceUnavailableError } from '@orgms/common/errors';
import type { Logger } from '@orgms/common/logger';
import type { Queue } from 'bullmq';
import express, { type Express, type RequestHandler } from 'express';
import { auditRoutes } from './audit/audit.routes';
import type { AuditService } from './audit/audit.service';
import { compatRoutes } from './compat/compat.routes';
import { organizationBackupsRoutes } from './data-safety/organization-backups.routes';
import type { OrganizationBackupsService } from './data-safety/organization-backups.service';
import { organizationExportsRoutes } from './data-safety/organization-exports.routes';
import type { OrganizationExportsService } from './data-safety/organization-exports.service';
import type { OrganizationEventsHub } from './events/organization-events-hub';
import { databaseServersRoutes } from './fleet/database-servers.routes';
import type { DatabaseServersService } from './fleet/database-servers.service';
import type { DrainsService } from './fleet/drains.service';
import type { MovesService } from './fleet/moves.service';
import { organizationMovesRoutes } from './fleet/organization-moves.routes';
import type { OrphansService } from './fleet/orphans.service';
import type { MigrationRunsService } from './fleet-migrations/migration-runs.service';
import { migrationsRoutes } from './fleet-migrations/migrations.routes';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { jsonBody } from './http/json-body';
import { requestContext } from './http/request-context';
import { securityHeaders } from './http/security-headers';
import { withFairAdmission } from './limits/admission.middleware';
import type { DatabaseLimitRunsService } from './limits/database-limit-runs.service';
import { databaseLimitsRoutes } from './limits/database-limits.routes';
import type { FairAdmission } from './limits/fair-admission';
import { limitsRoutes } from './limits/limits.routes';
import type { LimitsService } from './limits/limits.service';
import { type RequestRates, withRequestRates } from './limits/request-rates';
import { docsRoutes } from './openapi/docs.routes';
import { operatorTools } from './operator';
import { healthRoutes } from './operator/health.routes';
import type { ReadinessService } from './operator/readiness.service';
import { organizationChangesRoutes } from './organizations/organization-changes.routes';
import { organizationsRoutes } from './organizations/organizations.routes';
import type { OrganizationsService } from './organizations/organizations.service';
import { authRoutes } from './sign-in/auth.routes';
import type { AuthService } from './sign-in/auth.service';
import { createAuthentication } from './sign-in/authenticate';
import { organizationAuthorizer } from './sign-in/authorize-organization';
import { orgAuthRoutes } from './sign-in/org-auth.routes';
import type { OrgAuthService } from './sign-in/org-auth.service';
import type { SessionsService } from './sign-in/sessions.service';
import { limitSelfSignups, type SignupThrottle } from './sign-in/signup-throttle';
import type { TenantDatabases } from './tenancy/tenant-databases';
import { usersRoutes } from './users/users.routes';
import type { UsersService } from './users/users.service';
import { webhooksRoutes } from './webhooks/webhooks.routes';
import type { WebhooksService } from './webhooks/webhooks.service';

/** The API's services, wired once by startApiRuntime(). */
export interface ApiServices {
  auth: AuthService;
  orgAuth: OrgAuthService;
  /** Refresh and logout of the sessions both logins start. */
  sessions: SessionsService;
  /** Who did what: written by logins and changes, read by admins. */
  audit: AuditService;
  organizations: OrganizationsService;
  users: UsersService;
  migrationRuns: MigrationRunsService;
  /** Runs setting every organization's database limits on its role. */
  databaseLimitRuns: DatabaseLimitRunsService;
  orphans: OrphansService;
  databaseServers: DatabaseServersService;
  /** Moves of organizations between database servers. */
  moves: MovesService;
  /** Drains of a database server (every organization moved off). */
  drains: DrainsService;
  /** Exports of an organization's database (pg_dump files written by the worker). */
  exports: OrganizationExportsService;
  backups: OrganizationBackupsService;
  /** Webhook endpoints and their deliveries (sent by the worker). */
  webhooks: WebhooksService;
  /** This replica's subscription to organization status changes (long-polls, SSE). */
  events: OrganizationEventsHub;
  readiness: ReadinessService;
  /** Limits organizations created without a platform admin's token (self-signup). */
  signups: SignupThrottle;
  /** Each organization's limits, overrides and usage. */
  limits: LimitsService;
  /** Request rates per organization and per platform admin. */
  requestRates: RequestRates;
  /** Which requests this replica serves at once, organizations taking turns. */
  admission: FairAdmission;
}

export interface AppDependencies {
  config: Pick<Config, 'http' | 'auth' | 'limits'>;
  logger: Logger;
  services: ApiServices;
  /** What the operator pages watch: every queue, and this process's organization-database pools. */
  queues: Queue[];
  tenantPools: Pick<TenantDatabases, 'stats'>;
  /** Decides when access tokens expire (tests move it). */
  clock: Clock;
}

/** Routes below this answer 503 until the control database is migrated and the bootstrap admin exists. */
function requireControlDatabase(readiness: ReadinessService): RequestHandler {
  return (_req, _res, next) =>
    next(readiness.isControlPlaneReady ? undefined : new ServiceUnavailableError('The control database is not ready yet; try again shortly.'));
}

/**
 * The Express app over already wired services, without listening: tests drive it with
 * supertest, api-process.ts binds it to a port. Each router gets only the services it uses.
 */
export function createApp({ config, logger, services, queues, tenantPools, clock }: AppDependencies): Express {
  const { auth, organizations, users, events, readiness } = services;
  const { http } = config;
  const authenticated = createAuthentication(config.auth.jwt, auth, clock);
  // Every request with an accepted token is counted against its rate right away, before any other work.
  const rateLimited = config.limits.requestRatesEnabled ? withRequestRates(authenticated, services.requestRates) : authenticated;
  // Then it waits for its turn: a refused request never takes one.
  const authentication = withFairAdmission(rateLimited, services.admission);
  const authorize = organizationAuthorizer({ organizations, users });
  // With self-signup on, creating needs no token, but creations without a platform admin's count per address.
  const selfSignup = config.auth.allowSelfSignup ? limitSelfSignups(services.signups) : undefined;

  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-* are believed only from the proxies TRUST_PROXY names (none by default).
  app.set('trust proxy', http.trustProxy);
  const operator = operatorTools({
    http,
    authentication,
    auth,
    organizations,
    readiness,
    queues,
    tenantPools,
    databaseServers: services.databaseServers,
    sessions: services.sessions,
    requestRates: services.requestRates,
    admission: services.admission,
  });
  app.use(requestContext(logger));
  app.use(operator.observe);
  app.use(securityHeaders(http));
  app.use(healthRoutes(readiness));
  app.use(docsRoutes());
  app.use(...operator.routers);
  app.use(jsonBody(http.bodyLimit));
  app.use(requireControlDatabase(readiness));
  app.use(authRoutes({ authentication, auth, sessions: services.sessions }));
  app.use(auditRoutes({ authentication, authorize, audit: services.audit }));
  app.use(organizationsRoutes({ authentication, authorize, organizations, events, selfSignup }));
  app.use(organizationChangesRoutes({ authentication, authorize, organizations, events, logger }));
  app.use(databaseServersRoutes({ authentication, databaseServers: services.databaseServers }));
  app.use(organizationExportsRoutes({ authentication, authorize, exports: services.exports }));
  app.use(organizationBackupsRoutes({ authentication, authorize, backups: services.backups }));
  app.use(limitsRoutes({ authentication, authorize, limits: services.limits }));
  app.use(webhooksRoutes({ authentication, webhooks: services.webhooks }));
  app.use(organizationMovesRoutes({ authentication, moves: services.moves, drains: services.drains }));
  app.use(migrationsRoutes({ authentication, migrationRuns: services.migrationRuns, orphans: services.orphans }));
  app.use(databaseLimitsRoutes({ authentication, databaseLimitRuns: services.databaseLimitRuns }));
  app.use(orgAuthRoutes({ authentication, authorize, orgAuth: services.orgAuth, auth, users }));
  app.use(usersRoutes({ authentication, authorize, users }));
  app.use(compatRoutes({ authentication, authorize, organizations, users, selfSignup }));
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}

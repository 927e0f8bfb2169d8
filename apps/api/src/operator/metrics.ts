import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '@orgms/common/errors';
import type { Queue } from 'bullmq';
import { type Request, type RequestHandler, Router } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DatabaseServersService } from '../fleet/database-servers.service';
import { registerAdmissionMetrics } from '../limits/admission-metrics';
import type { FairAdmission } from '../limits/fair-admission';
import type { RequestRates } from '../limits/request-rates';
import type { OrganizationsService } from '../organizations/organizations.service';
import type { SessionsService } from '../sign-in/sessions.service';
import type { TenantDatabases } from '../tenancy/tenant-databases';
import type { ReadinessService } from './readiness.service';

export interface ApiMetricsSources {
  /** When set, only a scraper sending it as a bearer token reads the metrics. */
  metricsToken: string | undefined;
  organizations: Pick<OrganizationsService, 'countByStatus'>;
  readiness: Pick<ReadinessService, 'isControlPlaneReady' | 'isRedisConnected'>;
  queues: Queue[];
  tenantPools: Pick<TenantDatabases, 'stats'>;
  databaseServers: Pick<DatabaseServersService, 'list'>;
  sessions: Pick<SessionsService, 'reuseCounts'>;
  requestRates: Pick<RequestRates, 'refusals' | 'uncheckedRequests'>;
  admission: Pick<FairAdmission, 'refusals' | 'waits' | 'load'>;
}

/**
 * With METRICS_TOKEN set, only a scraper sending it as a bearer token reads the metrics (they
 * name queues and counts that are nobody else's business); without it, protect the port at
 * the network level. Compared in constant time.
 */
function requireMetricsToken(token: string | undefined): RequestHandler {
  const expected = token ? createHash('sha256').update(token).digest() : undefined;
  return (req, res, next) => {
    if (!expected) return next();
    const offered = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1] ?? '';
    if (timingSafeEqual(createHash('sha256').update(offered).digest(), expected)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="orgms metrics"');
    next(new UnauthorizedError('Send the metrics token as a bearer token.'));
  };
}

const JOB_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children'] as const;

/** The route pattern (`/organizations/:id`), never the raw path, so label cardinality stays bounded. */
function routeLabel(req: Request): string {
  return req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
}

/**
 * @openapi
 * tags: [{ name: Operations }]
 * /metrics:
 *   get:
 *     security: [{}, { metricsToken: [] }]
 *     summary: Prometheus metrics of this API instance
 *     description: For the scraper. With METRICS_TOKEN set, only `Authorization Bearer <METRICS_TOKEN>` is answered; without it, restrict the port at the network level. Request durations, organizations by status, jobs by queue and state, the oldest waiting job of each queue, each database server's capacity and organizations, tenant pools and connections, replays of traded refresh tokens, requests refused for their rate or let through unchecked, fair admission (waits, refusals, requests served and waiting), process metrics.
 *     responses:
 *       '200': { description: Prometheus text format., content: { text/plain: { schema: { type: string }, example: 'orgms_organizations{status="active"} 12' } } }
 *       '401': { $ref: '#/components/responses/MetricsUnauthorized' }
 *       '431': { $ref: '#/components/responses/RequestHeadTooLarge' }
 */
/**
 * Prometheus metrics of one API instance: request durations, organizations by status and jobs
 * by queue and state, the oldest waiting job per queue, the fleet's capacity (read at scrape time), tenant pools and connections, refresh token reuses, process metrics.
 * A registry per app, so several apps in one process (tests) never collide.
 */
export function apiMetrics(sources: ApiMetricsSources): { observe: RequestHandler; router: Router } {
  const { organizations, readiness, queues, tenantPools, databaseServers, sessions, requestRates, admission } = sources;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const requestDuration = new Histogram({
    name: 'orgms_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  new Gauge({
    name: 'orgms_organizations',
    help: 'Organizations by status (read from the control database at scrape time)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      if (!readiness.isControlPlaneReady) return;
      for (const [status, count] of Object.entries(await organizations.countByStatus())) this.set({ status }, count);
    },
  });

  new Gauge({
    name: 'orgms_jobs',
    help: 'BullMQ jobs by queue and state (read from Redis at scrape time)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      if (!readiness.isRedisConnected) return;
      for (const queue of queues) {
        const counts = await queue.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
  });

  new Gauge({
    name: 'orgms_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job waiting for a worker, by queue (0 when none waits; read from Redis at scrape time)',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      if (!readiness.isRedisConnected) return;
      const now = Date.now();
      for (const queue of queues) {
        // The wait list in the order workers take it: the first is the oldest.
        const [oldest] = await queue.getJobs(['waiting'], 0, 0, true);
        this.set({ queue: queue.name }, oldest ? Math.max(0, now - oldest.timestamp - (oldest.delay ?? 0)) / 1000 : 0);
      }
    },
  });

  // Both fleet gauges show the same list: one control-database read per scrape, not one per gauge.
  let fleetRead: { at: number; servers: ReturnType<typeof databaseServers.list> } | undefined;
  const fleetAtScrape = () => {
    if (!fleetRead || Date.now() - fleetRead.at > 1000) fleetRead = { at: Date.now(), servers: databaseServers.list() };
    return fleetRead.servers;
  };
  new Gauge({
    name: 'orgms_database_server_capacity',
    help: 'Organizations each database server may hold, by server and its status (active, draining, disabled; read from the control database at scrape time)',
    labelNames: ['server', 'status'] as const,
    registers: [registry],
    async collect() {
      if (!readiness.isControlPlaneReady) return;
      // A server whose status changed leaves no series under its old status.
      this.reset();
      for (const server of await fleetAtScrape()) this.set({ server: server.name, status: server.status }, server.capacity);
    },
  });
  new Gauge({
    name: 'orgms_database_server_organizations',
    help: 'Live organizations (not deleted, moving copies included) each database server holds, by server and its status',
    labelNames: ['server', 'status'] as const,
    registers: [registry],
    async collect() {
      if (!readiness.isControlPlaneReady) return;
      this.reset();
      for (const server of await fleetAtScrape()) this.set({ server: server.name, status: server.status }, server.organizations);
    },
  });

  new Gauge({
    name: 'orgms_tenant_pools',
    help: 'Organization database pools held by this API instance, per database server (open, closing)',
    labelNames: ['server', 'state'] as const,
    registers: [registry],
    collect() {
      for (const [server, stats] of tenantPools.stats()) {
        this.set({ server, state: 'open' }, stats.pools);
        this.set({ server, state: 'closing' }, stats.closingPools);
      }
    },
  });
  new Gauge({
    name: 'orgms_tenant_connections',
    help: 'Organization database connections of this API instance per database server: open, reserved, budget, waiting callers',
    labelNames: ['server', 'kind'] as const,
    registers: [registry],
    collect() {
      for (const [server, stats] of tenantPools.stats()) {
        this.set({ server, kind: 'open' }, stats.openConnections);
        this.set({ server, kind: 'reserved' }, stats.reservedConnections);
        this.set({ server, kind: 'budget' }, stats.budget);
        this.set({ server, kind: 'waiting' }, stats.waiting);
      }
    },
  });

  new Counter({
    name: 'orgms_tenant_pool_lookups_total',
    help: 'Organization database calls of this API instance per database server that found their pool open (hit) or opened one (miss)',
    labelNames: ['server', 'outcome'] as const,
    registers: [registry],
    collect() {
      // The managers count; the counter shows their totals, so it is reset to them at each scrape.
      this.reset();
      for (const [server, stats] of tenantPools.stats()) {
        this.inc({ server, outcome: 'hit' }, stats.poolHits);
        this.inc({ server, outcome: 'miss' }, stats.poolMisses);
      }
    },
  });

  new Counter({
    name: 'orgms_refresh_token_reuse_total',
    help: 'Replays of already traded refresh tokens: first (ended its family; audited) or repeated (the family had ended already; not audited again)',
    labelNames: ['occurrence'] as const,
    registers: [registry],
    collect() {
      // The service counts; the counter shows its totals, so it is reset to them at each scrape.
      this.reset();
      for (const [occurrence, count] of Object.entries(sessions.reuseCounts())) this.inc({ occurrence }, count);
    },
  });

  new Counter({
    name: 'orgms_rate_limited_total',
    help: 'Requests refused (429) for being over a request rate, by class (reads, writes, expensive) and scope (organization, platform_admin)',
    labelNames: ['class', 'scope'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { requestClass, scope, count } of requestRates.refusals()) this.inc({ class: requestClass, scope }, count);
    },
  });
  new Counter({
    name: 'orgms_rate_limit_unchecked_total',
    help: 'Requests let through without a request-rate check because Redis was unreachable (the limits fail open)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(requestRates.uncheckedRequests());
    },
  });
  registerAdmissionMetrics(registry, admission);

  const observe: RequestHandler = (req, res, next) => {
    const end = requestDuration.startTimer();
    res.on('finish', () => end({ method: req.method, route: routeLabel(req), status: String(res.statusCode) }));
    next();
  };

  const router = Router();
  router.get('/metrics', requireMetricsToken(sources.metricsToken), async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  return { observe, router };
}

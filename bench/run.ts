/**
 * `npm run bench [-- --quick] [-- --only <scenario>] [-- --tracing]` (the choices: ONLY_CHOICES below): the benchmarks (README "Benchmarks"). Starts the built API and worker as real
 * processes on an isolated control database, org prefix and queue prefix, measures each scenario
 * beside its floor in the same run, prints a table and writes bench/results/<timestamp>.json.
 * Scenarios 4–7 run on a fleet of two servers (5432 `default`, 5433 `pg-b` registered through the
 * API) when `scripts/fleet/ensure-fleet-services.sh` has started the second one, else on one.
 * Scenario 3 also starts a second API process (replica visibility) and one that checks the
 * request-rate limits (the others run without them); scenario 9 (noisy neighbour) runs its own
 * API and worker with BCRYPT_ROUNDS=10 and the limits on; scenario 7 (memory) runs last, with the
 * worker stopped.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApi, startWorker } from '../harness/built-service';
import { dropServiceResources, isolatedServiceEnv, type ServiceEnv } from '../harness/service-env';
import { killAll, type ServiceProcess } from '../harness/service-process';
import { budgets, DEFAULT_SERVER, dropPrefixedDatabases, registerSecondServer, SECOND_SERVER, waitForTemplate } from './lib/fleet';
import { ServiceClient, startReplica } from './lib/service';
import { printTable, type ResultRow } from './lib/stats';
import { archivePurge } from './scenarios/archive-purge';
import { backupRestore } from './scenarios/backup-restore';
import { burst } from './scenarios/burst';
import { dependencyStall } from './scenarios/dependency-stall';
import { fleetCapacity } from './scenarios/fleet-capacity';
import { fleetMigration } from './scenarios/fleet-migration';
import { createActiveOrganizations, manyTenants } from './scenarios/many-tenants';
import { memory } from './scenarios/memory';
import { type NoisyNeighbourSizes, noisyNeighbour } from './scenarios/noisy-neighbour';
import { organizationSearch } from './scenarios/organization-search';
import { provisioningLatency } from './scenarios/provisioning-latency';
import { replicaVisibility } from './scenarios/replica-visibility';
import { statusPolling } from './scenarios/status-polling';

const quick = process.argv.includes('--quick');
/** `--tracing`: scenario 3 also polls three replicas started alike, tracing off, on and on at 10 % (exporting to a sink on this machine), in alternating rounds. */
const tracing = process.argv.includes('--tracing');
/** `--only <choice>` runs one scenario alone. */
const ONLY_CHOICES = {
  status: "scenario 3's status polling (needs no fleet or tenants)",
  tenants: 'scenario 4, on the fleet of two servers with its organizations',
  archive: 'scenario 8',
  noisy: 'scenario 9 (it runs its own API and worker)',
  provisioning: 'scenarios 1 (with the template and spares) and 2, each beside its raw clone floor',
  backup: 'scenario 10',
  search: 'scenario 11',
  stall: 'scenario 12 (its own API and worker behind proxies)',
  migration: 'scenario 5, on the fleet and tenants it needs',
} as const;
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
if (only !== undefined && !Object.hasOwn(ONLY_CHOICES, only)) throw new Error(`--only takes one of ${Object.keys(ONLY_CHOICES).join(', ')}, not "${only}"`);
/** Users of the organization whose purge scenario 8 measures (issue 13 asks for the figures at 10,000). */
const ARCHIVED_USERS = 10000;
/** Scenario 10: backups and restores of organizations of 10,000 users (issue 24); 20 of them backed up for the throughput. */
const BACKUPS = { users: 10000, organizations: quick ? 6 : 20 };
/** Scenario 11: GET /organizations among 10,000 organizations (issue 26), each search timed over this many requests. */
const SEARCH = { organizations: 10000, requests: quick ? 50 : 200 };
const FULL = { latency: 20, burst: 100, pollSeconds: 10, renames: 20, tenants: 1000, reads: 10000, coldConnects: 5000, creates: 30, streams: 300 };
const sizes = quick ? { latency: 5, burst: 20, pollSeconds: 3, renames: 20, tenants: 200, reads: 1000, coldConnects: 1000, creates: 10, streams: 300 } : FULL;
/** Tenant connections one API process may hold to each server: `default` (TENANT_CONNECTION_BUDGET) and pg-b (its connection_budget). */
const TENANT_BUDGET = 50;
// Many more tenants than the budget holds: one connection per pool doubles the pools that fit.
const TENANT_POOL_SIZE = 1;
const MIGRATION_CONCURRENCY = 4;
const BCRYPT_ROUNDS = 4;
/** Scenario 9: 10 quiet organizations reading 8 times a second each, a new organization every second, one flooding admin on 12 connections. */
/** Scenario 12: a 20 s stall of PostgreSQL, then of Redis, under steady clients (issue 25). */
const STALL = { stallSeconds: quick ? 8 : 20, clients: 4 };
const NOISY: NoisyNeighbourSizes = {
  phaseSeconds: quick ? 10 : 20,
  quietOrganizations: 10,
  quietReadsPerSecond: 8,
  floodConnections: 12,
  newOrganizationEveryMs: 1000,
  honourRetryAfter: true,
};

async function stopGracefully(service: ServiceProcess | undefined): Promise<void> {
  service?.signal('SIGTERM');
  await service?.exited;
}

async function main(): Promise<void> {
  const runStarted = performance.now();
  let tenantsMs = Number.NaN;
  console.log(
    `orgms benchmarks (${quick ? 'quick' : 'full'}) on ${os.cpus().length} CPUs; BCRYPT_ROUNDS=${BCRYPT_ROUNDS}: hashing cost is not what is measured`,
  );
  const archiveDir = await mkdtemp(path.join(os.tmpdir(), 'orgms-bench-archives-'));
  const env = await isolatedServiceEnv(
    {
      BCRYPT_ROUNDS: String(BCRYPT_ROUNDS),
      TENANT_CONNECTION_BUDGET: String(TENANT_BUDGET),
      TENANT_POOL_SIZE: String(TENANT_POOL_SIZE),
      MIGRATION_CONCURRENCY: String(MIGRATION_CONCURRENCY),
      LOGIN_RATE_LIMIT_PER_IP: '100000',
      // Scenarios measure the service without request-rate limits; status polling adds a pass with them.
      RATE_LIMITS_ENABLED: 'false',
      LOG_LEVEL: 'info', // the process helpers wait for 'worker started'
      ARCHIVE_DIR: archiveDir,
      // The service's default (the harness turns spares off for the specs that count databases); `SPARE_DATABASES=0 npm run bench` compares without.
      SPARE_DATABASES: process.env.SPARE_DATABASES ?? '2',
      // Scenario 2 sends 100 creates at once as one platform admin: 32 served, and the rest must be able to wait (default 50),
      // longer than 5 s on a loaded machine.
      ADMISSION_ORGANIZATION_QUEUE: '200',
      ADMISSION_MAX_WAIT_MS: '60000',
    },
    'bench',
  );
  const rows: ResultRow[] = [];
  let worker: ServiceProcess | undefined;
  let servers = [DEFAULT_SERVER];
  const step = async (name: string, scenario: () => Promise<ResultRow[]>) => {
    const at = performance.now();
    console.log(`… ${name}`);
    const result = await scenario();
    console.log(`  (${Math.round((performance.now() - at) / 1000)} s; ${Math.round((performance.now() - runStarted) / 1000)} s since the start)`);
    rows.push(...result);
    printTable(result);
  };
  // A polite flood (a client library waiting out Retry-After) and a hostile one (never waiting): the limits must hold against both.
  const noisyStep = async () => {
    await step('noisy neighbour, polite flood (its own API and worker, BCRYPT_ROUNDS=10, default limits)', () => noisyNeighbour(NOISY));
    await step('noisy neighbour, hostile flood (ignores Retry-After)', () => noisyNeighbour({ ...NOISY, honourRetryAfter: false }));
  };
  /** Registers pg-b (when it is up) and creates the tenants scenarios 4–7 run on, spread over the fleet. */
  const fleetWithTenants = async (client: ServiceClient) => {
    console.log(`… registering ${SECOND_SERVER.name} (${SECOND_SERVER.adminUrl}) through POST /database-servers`);
    servers = await registerSecondServer(client, TENANT_BUDGET, sizes.tenants);
    if (servers.length > 1) {
      // The worker prepares <prefix>template on the servers it knows at start: restart it so pg-b has one.
      await stopGracefully(worker);
      worker = await startWorker(env);
      await waitForTemplate(SECOND_SERVER, env.orgPrefix);
    }
    const budgetOf = await budgets(client);
    console.log(`  fleet: ${servers.map((s) => `${s.name} (connection_budget ${budgetOf[s.name]})`).join(', ')}`);
    console.log(`… creating ${sizes.tenants} active organizations on ${servers.map((s) => s.name).join(' + ')}`);
    const tenants = await createActiveOrganizations(client, sizes.tenants, 'Tenant', servers);
    tenantsMs = tenants.ms;
    console.log(`  ${sizes.tenants} organizations active in ${Math.round(tenants.ms)} ms`);
    return { tenants, budgetOf };
  };
  const stallStep = () => step(`dependency stall (its own API and worker behind proxies, ${STALL.stallSeconds} s each)`, () => dependencyStall(STALL));
  let api: ServiceProcess;
  try {
    if (only === 'noisy') {
      await noisyStep();
    } else if (only === 'stall') {
      await stallStep();
    } else {
      api = await startApi(env);
      worker = await startWorker(env);
      const client = new ServiceClient(env);
      await client.login();

      if (only === 'archive') {
        await step('archive and purge', () => archivePurge(client, ARCHIVED_USERS, archiveDir, servers));
      } else if (only === 'backup') {
        await step('backup and restore', () => backupRestore(client, BACKUPS, archiveDir, servers));
      } else if (only === 'migration') {
        const { tenants } = await fleetWithTenants(client);
        await step('fleet migration', () => fleetMigration(client, tenants.ids, MIGRATION_CONCURRENCY, servers));
      } else if (only === 'search') {
        await step('search among organizations', () => organizationSearch(client, SEARCH.organizations, SEARCH.requests));
      } else if (only === 'provisioning') {
        await step('provisioning latency', () => provisioningLatency(client, sizes.latency));
        await step('burst', () => burst(client, sizes.burst, FULL.burst));
      } else if (only === 'status') {
        await step('status polling', () => statusPolling(client, sizes.pollSeconds, tracing));
      } else if (only === 'tenants') {
        const { tenants, budgetOf } = await fleetWithTenants(client);
        await step('many tenants', () => manyTenants(client, tenants.ids, sizes.reads, sizes.coldConnects, servers, budgetOf, api.child.pid));
      } else {
        await step('provisioning latency', () => provisioningLatency(client, sizes.latency));
        await step('provisioning latency without the template (fallback path)', async () => {
          await stopGracefully(worker);
          const fallback = await startWorker(env, { ORG_TEMPLATE_ENABLED: 'false' }, 'worker-no-template');
          const result = await provisioningLatency(client, sizes.latency, 'without template');
          await stopGracefully(fallback);
          worker = await startWorker(env);
          return result;
        });
        await step('burst', () => burst(client, sizes.burst, FULL.burst));
        await step('status polling', () => statusPolling(client, sizes.pollSeconds, tracing));
        await step('replica visibility (a second API process)', async () => {
          const replica = await startReplica(client);
          try {
            return await replicaVisibility(client, replica.client, sizes.renames);
          } finally {
            await stopGracefully(replica.process);
          }
        });
        await noisyStep();
        await stallStep();

        // From here on the fleet has two servers (pg-b on 5433, when it is up); the scenarios above ran on default alone.
        const { tenants, budgetOf } = await fleetWithTenants(client);
        await step('many tenants', () => manyTenants(client, tenants.ids, sizes.reads, sizes.coldConnects, servers, budgetOf, api.child.pid));
        await step('fleet migration', () => fleetMigration(client, tenants.ids, MIGRATION_CONCURRENCY, servers));
        await step('fleet capacity', () => fleetCapacity(client, servers, sizes.creates));
        await step('archive and purge', () => archivePurge(client, ARCHIVED_USERS, archiveDir, servers));
        await step('backup and restore', () => backupRestore(client, BACKUPS, archiveDir, servers));
        await step('search among organizations', () => organizationSearch(client, SEARCH.organizations, SEARCH.requests));
        await step(`memory (worker stopped, ${sizes.streams} SSE streams on pending organizations)`, async () => {
          // Last: with no worker, the organizations it requests stay pending, so their streams stay open.
          await stopGracefully(worker);
          worker = undefined;
          return memory(client, tenants.ids, sizes.streams, api.child.pid);
        });
      }
    }
  } finally {
    await killAll();
    // The harness drops this run's databases on 5432 only.
    if (servers.length > 1) await dropPrefixedDatabases(SECOND_SERVER, env.orgPrefix);
    await dropServiceResources(env as ServiceEnv);
    await rm(archiveDir, { recursive: true, force: true });
  }

  console.log('\nAll results');
  printTable(rows);
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), quick, cpus: os.cpus().length, bcryptRounds: BCRYPT_ROUNDS, sizes, noisy: NOISY, backups: BACKUPS, search: SEARCH, tenantsCreatedMs: Math.round(tenantsMs), seconds: Math.round((performance.now() - runStarted) / 1000), rows }, null, 2)}\n`,
  );
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

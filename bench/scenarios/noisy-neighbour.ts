import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApi, startWorker } from '../../harness/built-service';
import { dropServiceResources, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import type { ServiceProcess } from '../../harness/service-process';
import { coresSince, cpuSeconds } from '../lib/cpu';
import { ServiceClient } from '../lib/service';
import { median, percentile, type ResultRow, round } from '../lib/stats';

export interface NoisyNeighbourSizes {
  /** Length of each measured phase (calm, then flood). */
  phaseSeconds: number;
  quietOrganizations: number;
  /** GET /organizations/:id/users per second of each quiet organization's admin. */
  quietReadsPerSecond: number;
  floodConnections: number;
  /** A new organization is requested this often during each phase. */
  newOrganizationEveryMs: number;
  /** The flooding client waits a 429's Retry-After (true) or sends again at once (false). */
  honourRetryAfter: boolean;
}

/** Password cost of this scenario's service: user creates cost what they cost in production. */
const BCRYPT_ROUNDS = 10;
/** The flood runs this long before the measured window opens, so it is at full strength. */
const FLOOD_HEAD_START_MS = 2000;
const ADMIN = { email: 'owner@bench.test', password: 'bench password' };
/** A polite flood waits out each Retry-After (as a client library would); a hostile one never waits. */
const scenarioOf = (sizes: NoisyNeighbourSizes) => `9 noisy neighbour, ${sizes.honourRetryAfter ? 'polite' : 'hostile'} flood`;
/** Newcomers over all phases, for unique names. */
let newcomers = 0;

interface PhaseResult {
  quietReadMs: number[];
  quietReadFailures: number;
  toActiveMs: number[];
  apiCores: number;
  workerCores: number;
  floodAnswers?: Record<string, number>;
}

/**
 * Scenario 9: quiet organizations reading at a steady pace and new organizations being created,
 * first alone (calm), then beside one organization's admin flooding the API over many connections
 * (user creates at bcrypt cost 10, pages of 100 users, exports). Runs its own API and worker, with
 * the default limits and BCRYPT_ROUNDS=10, and drops everything it made.
 */
export async function noisyNeighbour(sizes: NoisyNeighbourSizes, extraEnv: Record<string, string> = {}): Promise<ResultRow[]> {
  const env = await isolatedServiceEnv(
    { BCRYPT_ROUNDS: String(BCRYPT_ROUNDS), LOGIN_RATE_LIMIT_PER_IP: '100000', SIGNUP_RATE_LIMIT_PER_IP: '100000', LOG_LEVEL: 'info', ...extraEnv },
    'noisy',
  );
  let api: ServiceProcess | undefined;
  let worker: ServiceProcess | undefined;
  try {
    api = await startApi(env);
    worker = await startWorker(env);
    const platform = new ServiceClient(env);
    await platform.login();
    const ids = await Promise.all(Array.from({ length: sizes.quietOrganizations + 1 }, (_, i) => platform.createOrganization(`Neighbour ${i} ${env.id}`)));
    await Promise.all(ids.map((id) => platform.waitActive(id)));
    const admins = await Promise.all(ids.map((id) => adminOf(env, id)));
    const quiet = admins.slice(0, sizes.quietOrganizations);
    const flooder = admins[sizes.quietOrganizations];
    // Unmeasured: opens the quiet organizations' pools and warms the JIT.
    await phase(sizes, platform, quiet, api, worker, 3000);
    const calm = await phase(sizes, platform, quiet, api, worker, sizes.phaseSeconds * 1000);
    const flood = await phase(sizes, platform, quiet, api, worker, sizes.phaseSeconds * 1000, flooder);
    return rows(sizes, calm, flood);
  } finally {
    for (const service of [api, worker]) {
      service?.signal('SIGTERM');
      await service?.exited;
    }
    await dropServiceResources(env);
  }
}

async function adminOf(env: ServiceEnv, organizationId: string): Promise<ServiceClient & { organizationId: string }> {
  const client = Object.assign(new ServiceClient(env), { organizationId });
  const res = await client.request('POST', '/admin/login', { organization_id: organizationId, ...ADMIN });
  if (res.status !== 200) throw new Error(`POST /admin/login of ${organizationId} answered ${res.status}: ${JSON.stringify(res.body)}`);
  client.token = res.body.access_token as string;
  return client;
}

async function phase(
  sizes: NoisyNeighbourSizes,
  platform: ServiceClient,
  quiet: (ServiceClient & { organizationId: string })[],
  api: ServiceProcess,
  worker: ServiceProcess,
  lengthMs: number,
  flooder?: ServiceClient & { organizationId: string },
): Promise<PhaseResult> {
  const flood = flooder ? startFlood(sizes, flooder) : undefined;
  if (flood) await sleep(FLOOD_HEAD_START_MS);
  const start = { at: performance.now(), api: cpuSeconds(api.child.pid), worker: cpuSeconds(worker.child.pid) };
  const until = start.at + lengthMs;
  const [reads, toActiveMs] = await Promise.all([
    steadyReads(quiet, sizes.quietReadsPerSecond, until),
    newOrganizations(platform, sizes.newOrganizationEveryMs, until),
  ]);
  const apiCores = coresSince(api.child.pid, { cpu: start.api, at: start.at });
  const workerCores = coresSince(worker.child.pid, { cpu: start.worker, at: start.at });
  return { quietReadMs: reads.ms, quietReadFailures: reads.failures, toActiveMs, apiCores, workerCores, floodAnswers: await flood?.stop() };
}

/** Each quiet admin reads its users every 1/rate s, whether or not the previous answer has come (open loop). */
async function steadyReads(
  admins: (ServiceClient & { organizationId: string })[],
  perSecond: number,
  until: number,
): Promise<{ ms: number[]; failures: number }> {
  const ms: number[] = [];
  let failures = 0;
  const inFlight: Promise<void>[] = [];
  const interval = 1000 / perSecond;
  await Promise.all(
    admins.map(async (admin, i) => {
      // Staggered, so the organizations' reads do not all leave at the same instant.
      for (let next = performance.now() + (interval * i) / admins.length; next < until; next += interval) {
        await sleep(Math.max(0, next - performance.now()));
        inFlight.push(
          (async () => {
            const sent = performance.now();
            const res = await admin.request('GET', `/organizations/${admin.organizationId}/users`).catch(() => undefined);
            ms.push(performance.now() - sent);
            if (res?.status !== 200) failures++;
          })(),
        );
      }
    }),
  );
  await Promise.all(inFlight);
  return { ms, failures };
}

/** Requests an organization every `everyMs` until `until`; the time from each POST to `active`. */
async function newOrganizations(platform: ServiceClient, everyMs: number, until: number): Promise<number[]> {
  const timings: Promise<number>[] = [];
  for (let next = performance.now(); next < until; next += everyMs) {
    await sleep(Math.max(0, next - performance.now()));
    const timing = (async () => {
      const sent = performance.now();
      await platform.waitActive(await platform.createOrganization(`Newcomer ${newcomers++} ${platform.env.id}`));
      return performance.now() - sent;
    })();
    // Handled here so an early failure does not end the process (skipping the clean-up) before Promise.all sees it.
    timing.catch(() => undefined);
    timings.push(timing);
  }
  return Promise.all(timings);
}

/** Starts bench/clients/flooder.mjs as its own process; stop() ends it and returns its answers by operation and status. */
function startFlood(sizes: NoisyNeighbourSizes, flooder: ServiceClient & { organizationId: string }): { stop: () => Promise<Record<string, number>> } {
  const child = spawn(process.execPath, [path.join(__dirname, '../clients/flooder.mjs')], {
    env: {
      PATH: process.env.PATH ?? '',
      BASE_URL: flooder.env.baseUrl,
      TOKEN: flooder.token,
      ORG_ID: flooder.organizationId,
      CONNECTIONS: String(sizes.floodConnections),
      DURATION_MS: String(10 * 60 * 1000), // a bound only: stop() ends it
      HONOUR_RETRY_AFTER: String(sizes.honourRetryAfter),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(output || '{}') as Record<string, number>;
    },
  };
}

function rows(sizes: NoisyNeighbourSizes, calm: PhaseResult, flood: PhaseResult): ResultRow[] {
  const note = 'floor: the same run without the flood (calm)';
  const scenario = scenarioOf(sizes);
  const compared = (metric: string, unit: string, calmValue: number, floodValue: number, target?: number): ResultRow => {
    const ratio = calmValue > 0 ? round(floodValue / calmValue, 2) : undefined;
    const digits = unit === 'cores' ? 2 : 1;
    return {
      scenario,
      metric,
      unit,
      service: round(floodValue, digits),
      floor: round(calmValue, digits),
      ratio,
      ...(target === undefined ? {} : { target: `<= ${target}x`, met: ratio !== undefined && ratio <= target }),
      note,
    };
  };
  const answers = flood.floodAnswers ?? {};
  const refused = Object.entries(answers)
    .filter(([key]) => key.endsWith(' 429'))
    .reduce((sum, [, count]) => sum + count, 0);
  const quietReads = `${sizes.quietOrganizations} orgs x ${sizes.quietReadsPerSecond}/s`;
  return [
    compared(`quiet reads p99 (${quietReads})`, 'ms', percentile(calm.quietReadMs, 99), percentile(flood.quietReadMs, 99), 1.25),
    compared('quiet reads p50', 'ms', median(calm.quietReadMs), median(flood.quietReadMs)),
    compared('quiet reads not 200', 'count', calm.quietReadFailures, flood.quietReadFailures),
    compared(
      `new org POST -> active median (${calm.toActiveMs.length} calm, ${flood.toActiveMs.length} flood)`,
      'ms',
      median(calm.toActiveMs),
      median(flood.toActiveMs),
      1.25,
    ),
    compared('new org POST -> active p95', 'ms', percentile(calm.toActiveMs, 95), percentile(flood.toActiveMs, 95), 1.25),
    compared('API CPU', 'cores', calm.apiCores, flood.apiCores),
    compared('worker CPU', 'cores', calm.workerCores, flood.workerCores),
    {
      scenario,
      metric: `flooding org refused (429) over ${sizes.floodConnections} connections${sizes.honourRetryAfter ? ', waiting Retry-After' : ''}`,
      unit: 'count',
      service: refused,
      target: '> 0',
      met: refused > 0,
    },
    ...Object.entries(answers)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, count]) => ({ scenario, metric: `flooding org answers: ${key}`, unit: 'count', service: count })),
  ];
}

import { setTimeout as sleep } from 'node:timers/promises';
import { startApi, startWorker } from '../../harness/built-service';
import { NetworkProxy } from '../../harness/network-proxy';
import { controlQuery, dropServiceResources, isolatedServiceEnv, SERVICE_ADMIN_EMAIL, SERVICE_ADMIN_PASSWORD } from '../../harness/service-env';
import type { ServiceProcess } from '../../harness/service-process';
import { ServiceClient } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';

export interface DependencyStallSizes {
  /** How long each stall lasts (issue 25 measured 20 s). */
  stallSeconds: number;
  /** Clients sending requests one after another, each its own mix. */
  clients: number;
}

const SCENARIO = '12 dependency stall';
/** Issue 25's bound: no request waits longer on a dependency. */
const BOUND_MS = 5000;
/** A request still unanswered after this is given up (before the bounded waits, a stall held requests as long as it lasted). */
const CLIENT_TIMEOUT_MS = 60000;
type Kind = 'create' | 'read' | 'login';
/**
 * The first client's requests in turn: a create among reads and logins; the others only read and
 * log in (every organization created is provisioned and then dropped, which is slow on a busy server).
 */
const MIX: Kind[] = ['create', 'read', 'login', 'read', 'login', 'read'];
const READER_MIX: Kind[] = ['read', 'login'];

interface Sample {
  kind: Kind;
  start: number;
  ms: number;
  status: number;
}

/**
 * Scenario 12: steady clients (create an organization, read it, log in) against an API and worker
 * that reach PostgreSQL and Redis through proxies; first PostgreSQL stalls for `stallSeconds`
 * (packets dropped: nothing refused, nothing reset), then, after a recovery, Redis. Reports the
 * longest wait of a request that overlapped each stall, what it was answered, how soon requests
 * succeed again after the thaw, and whether every organization answered 202 ends active.
 */
export async function dependencyStall(sizes: DependencyStallSizes): Promise<ResultRow[]> {
  const postgres = await NetworkProxy.start(5432);
  const redis = await NetworkProxy.start(6379);
  const env = await isolatedServiceEnv({ LOGIN_RATE_LIMIT_PER_IP: '100000', LOG_LEVEL: 'info' }, 'stall');
  env.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${postgres.port}/${env.controlDatabase}`;
  env.env.REDIS_URL = `redis://127.0.0.1:${redis.port}`;
  let api: ServiceProcess | undefined;
  let worker: ServiceProcess | undefined;
  try {
    api = await startApi(env);
    worker = await startWorker(env);
    const client = new ServiceClient(env);
    await client.login();
    const samples: Sample[] = [];
    const accepted: string[] = [];
    let running = true;
    const loops = Array.from({ length: sizes.clients }, (_, c) => clientLoop(client, c, samples, accepted, () => running));
    const stallMs = sizes.stallSeconds * 1000;
    await sleep(3000);
    const postgresWindow = await stall(postgres, stallMs, 'PostgreSQL');
    await sleep(8000);
    const redisWindow = await stall(redis, stallMs, 'Redis');
    await sleep(8000);
    running = false;
    await Promise.all(loops);
    console.log(`  clients stopped (${samples.length} requests); waiting for the ${accepted.length} organizations answered 202`);
    const activeWithinMs = await waitAllActive(env, accepted, 60000);
    return [
      ...rowsOf('PostgreSQL', postgresWindow, samples),
      ...rowsOf('Redis', redisWindow, samples),
      {
        scenario: SCENARIO,
        metric: `organizations answered 202 (${accepted.length}) active after the stalls`,
        unit: 'ms',
        service: round(activeWithinMs),
        met: Number.isFinite(activeWithinMs),
        note: Number.isFinite(activeWithinMs) ? undefined : 'some were not active within 60 s',
      },
    ];
  } finally {
    for (const service of [api, worker]) {
      service?.signal('SIGTERM');
      await service?.exited;
    }
    console.log('  services stopped');
    await postgres.stop();
    await redis.stop();
    console.log('  proxies stopped');
    await dropServiceResources(env);
  }
}

async function stall(proxy: NetworkProxy, ms: number, name: string): Promise<{ from: number; to: number }> {
  const from = performance.now();
  proxy.freeze();
  console.log(`  ${name} stalled`);
  await sleep(ms);
  proxy.thaw();
  console.log(`  ${name} thawed`);
  return { from, to: performance.now() };
}

async function clientLoop(client: ServiceClient, c: number, samples: Sample[], accepted: string[], running: () => boolean): Promise<void> {
  for (let i = 0; running(); i++) {
    const kind = c === 0 ? MIX[i % MIX.length] : READER_MIX[i % READER_MIX.length];
    const start = performance.now();
    let status = 0;
    try {
      status = await send(client, kind, `Stall ${c}-${i} ${client.env.id}`, accepted);
    } catch {
      status = 0; // no answer within the client's patience
    }
    samples.push({ kind, start, ms: performance.now() - start, status });
    if (status >= 500 || status === 0) await sleep(200); // a client backing off a little
  }
}

async function send(client: ServiceClient, kind: Kind, name: string, accepted: string[]): Promise<number> {
  const signal = AbortSignal.timeout(CLIENT_TIMEOUT_MS);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${client.token}` };
  if (kind === 'create') {
    const res = await fetch(`${client.env.baseUrl}/organizations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ organization_name: name, email: 'owner@bench.test', password: 'bench password' }),
      signal,
    });
    const body = (await res.json().catch(() => ({}))) as { id?: string };
    if (res.status === 202 && body.id) accepted.push(body.id);
    return res.status;
  }
  if (kind === 'read') {
    const id = accepted.at(-1);
    const res = await fetch(`${client.env.baseUrl}/organizations${id ? `/${id}` : ''}`, { headers, signal });
    await res.arrayBuffer();
    return res.status;
  }
  const res = await fetch(`${client.env.baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: SERVICE_ADMIN_EMAIL, password: SERVICE_ADMIN_PASSWORD }),
    signal,
  });
  await res.arrayBuffer();
  return res.status;
}

function rowsOf(dependency: string, window: { from: number; to: number }, samples: Sample[]): ResultRow[] {
  const during = samples.filter((s) => s.start < window.to && s.start + s.ms > window.from);
  const worst = during.reduce<Sample | undefined>((w, s) => (!w || s.ms > w.ms ? s : w), undefined);
  const answers = countBy(during.map((s) => `${s.kind} ${s.status || 'none'}`));
  const firstOkAfter = samples
    .filter((s) => s.start >= window.to && s.status > 0 && s.status < 500)
    .reduce((first, s) => Math.min(first, s.start + s.ms - window.to), Number.POSITIVE_INFINITY);
  const stallSeconds = Math.round((window.to - window.from) / 1000);
  return [
    {
      scenario: SCENARIO,
      metric: `worst wait of a request during a ${stallSeconds} s ${dependency} stall (${worst?.kind ?? '-'} → ${worst?.status || 'none'})`,
      unit: 'ms',
      service: round(worst?.ms ?? Number.NaN),
      target: `≤ ${BOUND_MS}`,
      met: worst !== undefined && worst.ms <= BOUND_MS,
      note: Object.entries(answers)
        .map(([answer, n]) => `${answer}: ${n}`)
        .join(', '),
    },
    {
      scenario: SCENARIO,
      metric: `first request answered < 500 after the ${dependency} stall ended`,
      unit: 'ms',
      service: round(firstOkAfter),
    },
  ];
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Milliseconds from now until every organization in `ids` is active (Infinity if not within `limitMs`). */
async function waitAllActive(env: Parameters<typeof controlQuery>[0], ids: string[], limitMs: number): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    const rows = await controlQuery<{ n: number }>(env, "SELECT count(*)::int AS n FROM organizations WHERE id = ANY($1) AND status = 'active'", [ids]);
    if (rows[0].n === ids.length) return performance.now() - start;
    await sleep(250);
  }
  return Number.POSITIVE_INFINITY;
}

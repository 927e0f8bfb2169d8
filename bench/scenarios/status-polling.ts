import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { cpuSeconds } from '../lib/cpu';
import { type LoadResult, load } from '../lib/load';
import { type ServiceClient, startReplica } from '../lib/service';
import { median, type ResultRow, round } from '../lib/stats';
import { TraceSink } from '../lib/trace-sink';

/** Length of one round of the alternating passes: the machine's load swings over seconds, so each side gets the same mix of them. */
const ROUND_SECONDS = 2;

/**
 * `durationSeconds` of load on each of `a` and `b`, in alternating rounds of ROUND_SECONDS (a, b,
 * a, b, …): a side measured after the other in one long pass met another machine (other work on
 * it comes and goes), which made the ratio swing between runs. Throughput over all rounds; p99
 * the median of the rounds' p99s; each round's ratio a / b.
 */
async function alternating(
  a: Parameters<typeof load>[0],
  b: Parameters<typeof load>[0],
  durationSeconds: number,
): Promise<{ a: LoadResult; b: LoadResult; roundRatios: number[] }> {
  const rounds = Math.max(1, Math.round(durationSeconds / ROUND_SECONDS));
  const seconds = durationSeconds / rounds;
  const results = { a: [] as LoadResult[], b: [] as LoadResult[] };
  for (let i = 0; i < rounds; i++) {
    results.a.push(await load({ ...a, durationSeconds: seconds }));
    results.b.push(await load({ ...b, durationSeconds: seconds }));
  }
  const merge = (passes: LoadResult[]): LoadResult => ({
    requestsPerSecond: passes.reduce((sum, p) => sum + p.requestsPerSecond, 0) / passes.length,
    p50Ms: median(passes.map((p) => p.p50Ms)),
    p99Ms: median(passes.map((p) => p.p99Ms)),
    non2xx: passes.reduce((sum, p) => sum + p.non2xx, 0),
    errors: passes.reduce((sum, p) => sum + p.errors, 0),
    total: passes.reduce((sum, p) => sum + p.total, 0),
    statusCodes: passes.reduce<Record<string, number>>((sum, p) => {
      for (const [status, count] of Object.entries(p.statusCodes)) sum[status] = (sum[status] ?? 0) + count;
      return sum;
    }, {}),
  });
  return { a: merge(results.a), b: merge(results.b), roundRatios: results.a.map((r, i) => round(r.requestsPerSecond / results.b[i].requestsPerSecond, 2)) };
}

/**
 * Scenario 3: GET /organizations/:id/status at 50 connections vs a bare Express + pg handler, in
 * alternating rounds; then the same load on an API replica that checks the request-rate limits
 * (the bench's own API runs without them), to measure what the check costs. `tracing`: also the
 * same load on three more replicas started alike, tracing off, on and on at 10 % (alternating
 * rounds), to measure what tracing costs.
 */
export async function statusPolling(client: ServiceClient, durationSeconds: number, tracing = false): Promise<ResultRow[]> {
  const id = await client.createOrganization(`Polling ${client.env.id}`);
  await client.waitActive(id);

  const port = await freePort();
  const floorProcess = spawn(process.execPath, [path.join(__dirname, '../floor/status-server.mjs')], {
    env: { ...process.env, PORT: String(port), DATABASE_URL: client.env.env.DATABASE_URL },
    stdio: 'ignore',
  });
  try {
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/organizations/${id}/status`).catch(() => undefined))?.ok, 10000, 'the floor server');
    const {
      a: service,
      b: floor,
      roundRatios,
    } = await alternating(
      { url: `${client.env.baseUrl}/organizations/${id}/status`, connections: 50, headers: { authorization: `Bearer ${client.token}` } },
      { url: `http://127.0.0.1:${port}/organizations/${id}/status`, connections: 50 },
      durationSeconds,
    );
    const ratio = round(service.requestsPerSecond / floor.requestsPerSecond, 2);
    return [
      {
        scenario: '3 status polling',
        metric: 'throughput at 50 connections',
        unit: 'req/s',
        service: round(service.requestsPerSecond),
        floor: round(floor.requestsPerSecond),
        ratio,
        target: '>= 1.0x',
        met: ratio >= 1,
        note: `alternating rounds of ${ROUND_SECONDS} s; each round's ratio: ${roundRatios.join(', ')}`,
      },
      { scenario: '3 status polling', metric: "p99 latency (median of the rounds')", unit: 'ms', service: service.p99Ms, floor: floor.p99Ms },
      {
        scenario: '3 status polling',
        metric: 'non-2xx + errors',
        unit: 'count',
        service: service.non2xx + service.errors,
        floor: floor.non2xx + floor.errors,
        target: '0',
        met: service.non2xx + service.errors === 0,
      },
      ...(await withRateLimits(client, id, durationSeconds)),
      ...(tracing ? await tracingOverhead(client, id, durationSeconds) : []),
    ];
  } finally {
    floorProcess.kill('SIGTERM');
  }
}

/**
 * The same polling on a replica with the limits on at their defaults, except the platform admin's
 * reads, raised so that every request is checked and none refused, in alternating rounds with the
 * first API (limits off): the cost of the check alone.
 */
async function withRateLimits(client: ServiceClient, id: string, durationSeconds: number): Promise<ResultRow[]> {
  const replica = await startReplica(client, 'api-rate-limited', { RATE_LIMITS_ENABLED: 'true', PLATFORM_RATE_LIMIT_READS: '1000000000' });
  try {
    const polling = { url: `${replica.client.env.baseUrl}/organizations/${id}/status`, connections: 50, headers: { authorization: `Bearer ${client.token}` } };
    // A new process: warm it (JIT, caches, pools) as the first pass's API was warmed by the scenarios before it.
    await load({ ...polling, durationSeconds: 1 });
    const {
      a: limited,
      b: without,
      roundRatios,
    } = await alternating(polling, { ...polling, url: `${client.env.baseUrl}/organizations/${id}/status` }, durationSeconds);
    const withoutRequestsPerSecond = without.requestsPerSecond;
    const ratio = round(limited.requestsPerSecond / withoutRequestsPerSecond, 2);
    return [
      {
        scenario: '3 status polling',
        metric: 'throughput with the request-rate check (floor column: without it)',
        unit: 'req/s',
        service: round(limited.requestsPerSecond),
        floor: round(withoutRequestsPerSecond),
        ratio,
        note: `with limits: ${round(limited.requestsPerSecond)} req/s, p99 ${limited.p99Ms} ms; without: ${round(withoutRequestsPerSecond)} req/s; each round's ratio: ${roundRatios.join(', ')}`,
      },
      {
        scenario: '3 status polling',
        metric: 'non-2xx + errors with the request-rate check',
        unit: 'count',
        service: limited.non2xx + limited.errors,
        target: '0',
        met: limited.non2xx + limited.errors === 0,
      },
    ];
  } finally {
    replica.process.signal('SIGTERM');
    await replica.process.exited;
  }
}

/**
 * Short rounds of polling each tracing replica gets, in turn (off, on, sampled, off, on…), so the
 * load of a shared machine falls on all alike; six of half the scenario's duration each.
 */
const TRACING_ROUNDS = 6;

/**
 * Three replicas started alike: one without tracing, one exporting every span (the default
 * sampler) and one keeping 10 % of the traces (`parentbased_traceidratio`), both over OTLP/HTTP
 * (http/protobuf, the default) to a sink on this machine: the cost of tracing on the hottest read.
 * All are warmed, then polled in alternating rounds; each one's figure is its requests over its
 * time, and the note has the median of its per-round ratios to the tracing-off round. Without OTEL_TRACES_EXPORTER no OpenTelemetry code is loaded.
 */
async function tracingOverhead(client: ServiceClient, id: string, durationSeconds: number): Promise<ResultRow[]> {
  const sink = await TraceSink.start();
  const exporting = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint };
  const variants = [
    { name: 'api-tracing-off', overrides: {} },
    { name: 'api-tracing-on', overrides: exporting },
    { name: 'api-tracing-sampled', overrides: { ...exporting, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } },
  ];
  const replicas: Awaited<ReturnType<typeof startReplica>>[] = [];
  try {
    for (const variant of variants) replicas.push(await startReplica(client, variant.name, variant.overrides));
    const polling = (replica: ServiceClient, seconds: number) =>
      load({
        url: `${replica.env.baseUrl}/organizations/${id}/status`,
        connections: 50,
        durationSeconds: seconds,
        headers: { authorization: `Bearer ${client.token}` },
      });
    // New processes: warm them (JIT, caches, pools) as the first pass's API was warmed by the scenarios before it.
    for (const replica of replicas) await polling(replica.client, 1);
    const results: LoadResult[][] = replicas.map(() => []);
    // CPU seconds each replica spent in its rounds: per request, what the machine's load does not move.
    const cpu = replicas.map(() => 0);
    const roundSeconds = Math.max(1, Math.round(durationSeconds / 2));
    for (let turn = 0; turn < TRACING_ROUNDS; turn += 1) {
      for (const [index, replica] of replicas.entries()) {
        const before = cpuSeconds(replica.process.child.pid);
        results[index].push(await polling(replica.client, roundSeconds));
        cpu[index] += cpuSeconds(replica.process.child.pid) - before;
      }
    }
    const cpuMsPerRequest = (index: number) => round((cpu[index] * 1000) / results[index].reduce((sum, r) => sum + r.total, 0), 3);
    const [off, all, sampled] = results;
    const rate = (rounds: LoadResult[]) => round(rounds.reduce((sum, r) => sum + r.total, 0) / (rounds.length * roundSeconds));
    // Each round against the tracing-off round just before it: the machine's drift between rounds cancels out.
    const medianRatio = (rounds: LoadResult[]) => {
      const ratios = rounds.map((r, turn) => r.requestsPerSecond / off[turn].requestsPerSecond).sort((a, b) => a - b);
      return round((ratios[Math.floor((ratios.length - 1) / 2)] + ratios[Math.ceil((ratios.length - 1) / 2)]) / 2, 2);
    };
    const perRound = (rounds: LoadResult[]) => rounds.map((r) => round(r.requestsPerSecond)).join(' / ');
    const worstP99 = (rounds: LoadResult[]) => Math.max(...rounds.map((r) => r.p99Ms));
    const failures = (rounds: LoadResult[]) => rounds.reduce((sum, r) => sum + r.non2xx + r.errors, 0);
    const rows = (label: string, on: LoadResult[], index: number): ResultRow[] => [
      {
        scenario: '3 status polling',
        metric: `throughput with tracing on, ${label} (floor column: tracing off), ${TRACING_ROUNDS} alternating rounds`,
        unit: 'req/s',
        service: rate(on),
        floor: rate(off),
        ratio: round(rate(on) / rate(off), 2),
        note: `median of the per-round ratios ${medianRatio(on)}x; rounds on: ${perRound(on)}; off: ${perRound(off)} req/s`,
      },
      {
        scenario: '3 status polling',
        metric: `worst p99 of a round with tracing on, ${label} (floor column: off)`,
        unit: 'ms',
        service: worstP99(on),
        floor: worstP99(off),
      },
      {
        scenario: '3 status polling',
        metric: `API CPU per request with tracing on, ${label} (floor column: off)`,
        unit: 'ms',
        service: cpuMsPerRequest(index),
        floor: cpuMsPerRequest(0),
        ratio: round(cpuMsPerRequest(index) / cpuMsPerRequest(0), 2),
      },
    ];
    return [
      ...rows('every trace', all, 1),
      ...rows('10 % of traces', sampled, 2),
      {
        scenario: '3 status polling',
        metric: 'non-2xx + errors with tracing on',
        unit: 'count',
        service: failures(all) + failures(sampled),
        target: '0',
        met: failures(all) + failures(sampled) === 0,
        note: `${sink.exports} exports (${Math.round(sink.bytes / 1024)} KiB) received`,
      },
    ];
  } finally {
    for (const replica of replicas) {
      replica.process.signal('SIGTERM');
      await replica.process.exited;
    }
    await sink.stop();
  }
}

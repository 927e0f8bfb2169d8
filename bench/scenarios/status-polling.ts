import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { load } from '../lib/load';
import { type ServiceClient, startReplica } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';
import { TraceSink } from '../lib/trace-sink';

/**
 * Scenario 3: GET /organizations/:id/status at 50 connections vs a bare Express + pg handler;
 * then the same load on an API replica that checks the request-rate limits (the bench's own API
 * runs without them), to measure what the check costs. `tracing`: also the same load on two more
 * replicas started alike, tracing off and on, to measure what tracing costs.
 */
export async function statusPolling(client: ServiceClient, durationSeconds: number, tracing = false): Promise<ResultRow[]> {
  const id = await client.createOrganization(`Polling ${client.env.id}`);
  await client.waitActive(id);
  const service = await load({
    url: `${client.env.baseUrl}/organizations/${id}/status`,
    connections: 50,
    durationSeconds,
    headers: { authorization: `Bearer ${client.token}` },
  });

  const port = await freePort();
  const floorProcess = spawn(process.execPath, [path.join(__dirname, '../floor/status-server.mjs')], {
    env: { ...process.env, PORT: String(port), DATABASE_URL: client.env.env.DATABASE_URL },
    stdio: 'ignore',
  });
  try {
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/organizations/${id}/status`).catch(() => undefined))?.ok, 10000, 'the floor server');
    const floor = await load({ url: `http://127.0.0.1:${port}/organizations/${id}/status`, connections: 50, durationSeconds });
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
      },
      { scenario: '3 status polling', metric: 'p99 latency', unit: 'ms', service: service.p99Ms, floor: floor.p99Ms },
      {
        scenario: '3 status polling',
        metric: 'non-2xx + errors',
        unit: 'count',
        service: service.non2xx + service.errors,
        floor: floor.non2xx + floor.errors,
        target: '0',
        met: service.non2xx + service.errors === 0,
      },
      ...(await withRateLimits(client, id, durationSeconds, service.requestsPerSecond)),
      ...(tracing ? await tracingOverhead(client, id, durationSeconds) : []),
    ];
  } finally {
    floorProcess.kill('SIGTERM');
  }
}

/**
 * The same polling on a replica with the limits on at their defaults, except the platform admin's
 * reads, raised so that every request is checked and none refused: the cost of the check alone.
 */
async function withRateLimits(client: ServiceClient, id: string, durationSeconds: number, withoutRequestsPerSecond: number): Promise<ResultRow[]> {
  const replica = await startReplica(client, 'api-rate-limited', { RATE_LIMITS_ENABLED: 'true', PLATFORM_RATE_LIMIT_READS: '1000000000' });
  try {
    const polling = { url: `${replica.client.env.baseUrl}/organizations/${id}/status`, connections: 50, headers: { authorization: `Bearer ${client.token}` } };
    // A new process: warm it (JIT, caches, pools) as the first pass's API was warmed by the scenarios before it.
    await load({ ...polling, durationSeconds: 1 });
    const limited = await load({ ...polling, durationSeconds });
    const ratio = round(limited.requestsPerSecond / withoutRequestsPerSecond, 2);
    return [
      {
        scenario: '3 status polling',
        metric: 'throughput with the request-rate check (floor column: without it)',
        unit: 'req/s',
        service: round(limited.requestsPerSecond),
        floor: round(withoutRequestsPerSecond),
        ratio,
        note: `with limits: ${round(limited.requestsPerSecond)} req/s, p99 ${limited.p99Ms} ms; without: ${round(withoutRequestsPerSecond)} req/s`,
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

/** Polls `id`'s status on a new replica started with `overrides`, warmed for a second first (JIT, caches, pools). */
async function pollReplica(client: ServiceClient, id: string, durationSeconds: number, name: string, overrides: Record<string, string>) {
  const replica = await startReplica(client, name, overrides);
  try {
    const polling = { url: `${replica.client.env.baseUrl}/organizations/${id}/status`, connections: 50, headers: { authorization: `Bearer ${client.token}` } };
    await load({ ...polling, durationSeconds: 1 });
    return await load({ ...polling, durationSeconds });
  } finally {
    replica.process.signal('SIGTERM');
    await replica.process.exited;
  }
}

/**
 * Two replicas started alike, one without tracing and one exporting every span (the default
 * sampler: all of them) over OTLP/HTTP (http/protobuf, the default) to a sink on this machine:
 * the cost of tracing on the hottest read. Without OTEL_TRACES_EXPORTER no OpenTelemetry code is loaded.
 */
async function tracingOverhead(client: ServiceClient, id: string, durationSeconds: number): Promise<ResultRow[]> {
  const sink = await TraceSink.start();
  try {
    const off = await pollReplica(client, id, durationSeconds, 'api-tracing-off', {});
    const on = await pollReplica(client, id, durationSeconds, 'api-tracing-on', {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
    });
    const ratio = round(on.requestsPerSecond / off.requestsPerSecond, 2);
    return [
      {
        scenario: '3 status polling',
        metric: 'throughput with tracing on (floor column: tracing off)',
        unit: 'req/s',
        service: round(on.requestsPerSecond),
        floor: round(off.requestsPerSecond),
        ratio,
        note: `on: ${round(on.requestsPerSecond)} req/s, p99 ${on.p99Ms} ms; off: ${round(off.requestsPerSecond)} req/s, p99 ${off.p99Ms} ms; ${sink.exports} exports (${Math.round(sink.bytes / 1024)} KiB) received`,
      },
      { scenario: '3 status polling', metric: 'p99 latency with tracing on (floor column: off)', unit: 'ms', service: on.p99Ms, floor: off.p99Ms },
      {
        scenario: '3 status polling',
        metric: 'non-2xx + errors with tracing on',
        unit: 'count',
        service: on.non2xx + on.errors,
        target: '0',
        met: on.non2xx + on.errors === 0,
      },
    ];
  } finally {
    await sink.stop();
  }
}

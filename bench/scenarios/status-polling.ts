import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { load } from '../lib/load';
import { type ServiceClient, startReplica } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';

/**
 * Scenario 3: GET /organizations/:id/status at 50 connections vs a bare Express + pg handler;
 * then the same load on an API replica that checks the request-rate limits (the bench's own API
 * runs without them), to measure what the check costs.
 */
export async function statusPolling(client: ServiceClient, durationSeconds: number): Promise<ResultRow[]> {
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

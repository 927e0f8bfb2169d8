import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { load } from '../lib/load';
import type { ServiceClient } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';

/** Scenario 3: GET /organizations/:id/status at 50 connections vs a bare Express + pg handler. */
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
    ];
  } finally {
    floorProcess.kill('SIGTERM');
  }
}

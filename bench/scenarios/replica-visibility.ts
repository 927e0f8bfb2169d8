import type { ServiceClient } from '../lib/service';
import { median, type ResultRow, round } from '../lib/stats';

const TARGET_MS = 50;

/**
 * Scenario 3b: how soon a change made through one replica is visible on another. `replica` is a
 * second API process on the same environment (same control database, Redis and prefixes). The
 * organization is read through the replica first, so it sits in the replica's cache; then, `count`
 * times: `PATCH /organizations/:id` (a rename) through API 1, and `GET /organizations/:id` through
 * API 2, back to back without pause, until it shows the new name. The delay is counted from the
 * moment API 1 acknowledged the rename (its 200) to the first read on API 2 that showed it; the
 * JSON also keeps it counted from the moment the PATCH was sent.
 */
export async function replicaVisibility(client: ServiceClient, replica: ServiceClient, count: number): Promise<ResultRow[]> {
  const id = await client.createOrganization(`Replica ${client.env.id}`);
  await client.waitActive(id);
  const fromAck: number[] = [];
  const fromRequest: number[] = [];
  let reads = 0;
  for (let i = 0; i < count; i++) {
    // The replica holds the current row in its cache before the change.
    const before = await replica.request('GET', `/organizations/${id}`);
    if (before.status !== 200) throw new Error(`GET /organizations/${id} on the replica answered ${before.status}`);
    const name = `Replica ${client.env.id} renamed ${i}`;
    const sent = performance.now();
    const renamed = await client.request('PATCH', `/organizations/${id}`, { organization_name: name });
    const acknowledged = performance.now();
    if (renamed.status !== 200) throw new Error(`PATCH /organizations/${id} answered ${renamed.status}: ${JSON.stringify(renamed.body)}`);
    for (;;) {
      const seen = await replica.request('GET', `/organizations/${id}`);
      reads++;
      if (seen.status !== 200) throw new Error(`GET /organizations/${id} on the replica answered ${seen.status}`);
      if (seen.body.name === name) break;
      if (performance.now() - acknowledged > 15000) throw new Error(`the replica still showed ${JSON.stringify(seen.body.name)} 15 s after the rename`);
    }
    const visible = performance.now();
    fromAck.push(visible - acknowledged);
    fromRequest.push(visible - sent);
  }
  const scenario = '3 replica visibility (2 APIs)';
  const worst = Math.max(...fromAck);
  const note = `from the PATCH sent: p50 ${round(median(fromRequest))} ms, max ${round(Math.max(...fromRequest))} ms; ${reads} reads on API 2`;
  return [
    {
      scenario,
      metric: `rename on API 1 until GET on API 2 shows it, p50 of ${count}`,
      unit: 'ms',
      service: round(median(fromAck)),
      target: `<= ${TARGET_MS}`,
      met: median(fromAck) <= TARGET_MS,
      note,
    },
    {
      scenario,
      metric: `rename on API 1 until GET on API 2 shows it, max of ${count}`,
      unit: 'ms',
      service: round(worst),
      target: `<= ${TARGET_MS}`,
      met: worst <= TARGET_MS,
      note,
    },
  ];
}

import { templateNameFor } from '@orgms/common/tenancy/database-names';
import bcrypt from 'bcrypt';
import { dropDatabases, rawClone } from '../lib/floor';
import type { ServiceClient } from '../lib/service';
import { median, percentile, type ResultRow, round } from '../lib/stats';

/** Scenario 1: POST→active one org at a time (observed by long-poll) vs a raw template clone + admin INSERT. */
export async function provisioningLatency(client: ServiceClient, count: number, variant = 'template'): Promise<ResultRow[]> {
  // Two unmeasured organizations first, so the figures are steady state, not JIT warm-up.
  for (const warmUp of ['a', 'b']) await client.waitActive(await client.createOrganization(`Warm-up ${variant} ${warmUp} ${client.env.id}`));
  const service: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await client.waitActive(await client.createOrganization(`Latency ${variant} ${i} ${client.env.id}`));
    service.push(performance.now() - started);
  }
  const template = templateNameFor(client.env.orgPrefix);
  const hash = await bcrypt.hash('bench password', 4);
  const floor: number[] = [];
  const names = Array.from({ length: count }, (_, i) => `${client.env.orgPrefix}floor_latency_${i}`);
  // The floor is the same in both variants: the raw clone is what the database can do at best.
  for (const name of names) floor.push(await rawClone(template, name, hash));
  await dropDatabases(names);

  const ratio = round(median(service) / median(floor), 2);
  const p95Ratio = round(percentile(service, 95) / percentile(floor, 95), 2);
  return [
    {
      scenario: `1 provisioning latency (${variant})`,
      metric: `median of ${count}`,
      unit: 'ms',
      service: round(median(service)),
      floor: round(median(floor)),
      ratio,
      target: '<= 1.0x',
      met: ratio <= 1,
    },
    {
      scenario: `1 provisioning latency (${variant})`,
      metric: `p95 of ${count}`,
      unit: 'ms',
      service: round(percentile(service, 95)),
      floor: round(percentile(floor, 95)),
      ratio: p95Ratio,
      target: '<= 1.5x',
      met: p95Ratio <= 1.5,
    },
  ];
}

import { templateNameFor } from '@orgms/common/tenancy/database-names';
import bcrypt from 'bcrypt';
import { dropDatabases, rawClone } from '../lib/floor';
import type { ServiceClient } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';

/** Scenario 2: `count` orgs requested at once, time until all are active, vs `count` sequential raw clones (target 1.5x). */
export async function burst(client: ServiceClient, count: number, fullCount = count): Promise<ResultRow[]> {
  const started = performance.now();
  const ids = await Promise.all(Array.from({ length: count }, (_, i) => client.createOrganization(`Burst ${i} ${client.env.id}`)));
  await Promise.all(ids.map((id) => client.waitActive(id)));
  const serviceMs = performance.now() - started;

  const template = templateNameFor(client.env.orgPrefix);
  const hash = await bcrypt.hash('bench password', 4);
  const names = Array.from({ length: count }, (_, i) => `${client.env.orgPrefix}floor_burst_${i}`);
  const floorStarted = performance.now();
  for (const name of names) await rawClone(template, name, hash);
  const floorMs = performance.now() - floorStarted;
  await dropDatabases(names);

  const ratio = round(serviceMs / floorMs, 2);
  return [
    {
      scenario: '2 burst',
      metric: `${count} orgs until all active${count === fullCount ? '' : ` (quick run; the full run bursts ${fullCount})`}`,
      unit: 'ms',
      service: round(serviceMs),
      floor: round(floorMs),
      ratio,
      target: '<= 1.5x',
      met: ratio <= 1.5,
    },
    { scenario: '2 burst', metric: 'throughput', unit: 'orgs/min', service: round((count / serviceMs) * 60000), floor: round((count / floorMs) * 60000) },
  ];
}

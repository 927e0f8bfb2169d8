import { load } from '../lib/load';
import { rssMb, sampleRss } from '../lib/memory';
import { inPool, openStatusStream, type ServiceClient } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';

const TARGET_MB = 300;

/**
 * Scenario 7: the API's resident memory (`VmRSS` of its process) with `streamCount` open status
 * streams and every one of `tenantIds` in use. A stream ends as soon as its organization is
 * `active`, so the streams are opened on organizations that stay `pending`: the caller has
 * stopped the worker, `streamCount` organizations are requested through the API (they wait in the
 * queue), and one `GET /organizations/:id/events` (platform admin) is kept open on each. With all
 * of them open, one user read per tenant organization (each organization once, 50 at once) goes
 * through the API, so their rows are cached and their pools opened; RSS is sampled every 100 ms
 * during those reads. The pending organizations are left to the run's clean-up (they have no
 * database yet).
 */
export async function memory(client: ServiceClient, tenantIds: string[], streamCount: number, apiPid: number | undefined): Promise<ResultRow[]> {
  const beforeMb = rssMb(apiPid);
  const pending = await createPendingOrganizations(client, streamCount);
  const streams: Awaited<ReturnType<typeof openStatusStream>>[] = [];
  try {
    await inPool(pending, 50, async (id) => {
      const stream = await openStatusStream(client, id);
      streams.push(stream);
      if (stream.firstStatus !== 'pending') throw new Error(`the stream of ${id} started at ${stream.firstStatus}, not pending: is the worker running?`);
    });
    const withStreamsMb = rssMb(apiPid);
    let next = 0;
    const run = load({
      url: `${client.env.baseUrl}/organizations/${tenantIds[0]}/users`,
      connections: 50,
      amount: tenantIds.length,
      headers: { authorization: `Bearer ${client.token}` },
      path: () => `/organizations/${tenantIds[next++ % tenantIds.length]}/users`,
    });
    const [reads, rss] = await Promise.all([run, sampleRss(apiPid, run)]);
    const open = streams.filter((s) => !s.ended()).length;
    const scenario = `7 memory (${streamCount} SSE streams, ${tenantIds.length} orgs in use)`;
    const failures = reads.non2xx + reads.errors;
    return [
      {
        scenario,
        metric: 'API RSS, peak',
        unit: 'MB',
        service: round(rss.peakMb),
        target: `< ${TARGET_MB}`,
        met: rss.peakMb < TARGET_MB,
        note: `before the streams ${round(beforeMb)} MB; with the streams open ${round(withStreamsMb)} MB; after the reads ${round(rss.lastMb)} MB`,
      },
      { scenario, metric: 'streams still open after the reads', unit: 'count', service: open, target: `${streamCount}`, met: open === streamCount },
      {
        scenario,
        metric: `${tenantIds.length} user reads (one per org): errors + non-2xx`,
        unit: 'count',
        service: failures,
        target: '0',
        met: failures === 0,
      },
    ];
  } finally {
    for (const stream of streams) stream.close();
  }
}

/** `count` organizations requested through the API while no worker runs: they stay `pending`. */
async function createPendingOrganizations(client: ServiceClient, count: number): Promise<string[]> {
  const ids: string[] = [];
  await inPool(
    Array.from({ length: count }, (_, i) => i),
    25,
    async (i) => {
      ids.push(await client.createOrganization(`Pending ${i} ${client.env.id}`));
    },
  );
  return ids;
}

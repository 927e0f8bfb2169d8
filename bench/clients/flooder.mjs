// The flooding organization of the noisy-neighbour scenario: its admin, over CONNECTIONS
// connections, creates users, reads pages of 100 users and asks for exports, in turn, as fast as
// the API answers, until DURATION_MS has passed. Its own process, so its work does not slow the
// bench's measurement of the quiet organizations. Prints the answers' counts by operation and
// status as one JSON line on stdout.
// HONOUR_RETRY_AFTER=true: a connection answered 429 waits its Retry-After (as a client library
// would); otherwise it sends the next request at once (a client that ignores the limit).
import { setTimeout as sleep } from 'node:timers/promises';

const { BASE_URL, TOKEN, ORG_ID, CONNECTIONS, DURATION_MS, HONOUR_RETRY_AFTER } = process.env;
const deadline = Date.now() + Number(DURATION_MS);
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const counts = {};
let sent = 0;
// SIGTERM: the bench's measurement is over; finish the requests in flight, then print.
const stopped = new AbortController();
process.on('SIGTERM', () => stopped.abort());

const operations = {
  create: () =>
    fetch(`${BASE_URL}/organizations/${ORG_ID}/users`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ email: `flood-${process.pid}-${sent}@bench.test`, password: 'flood password 1', role: 'member' }),
    }),
  page: () => fetch(`${BASE_URL}/organizations/${ORG_ID}/users?limit=100`, { headers }),
  export: () => fetch(`${BASE_URL}/organizations/${ORG_ID}/exports`, { method: 'POST', headers }),
};
const names = Object.keys(operations);

async function connection(index) {
  for (let turn = index; !stopped.signal.aborted && Date.now() < deadline; turn++) {
    const name = names[turn % names.length];
    sent++;
    let status = 'error';
    let retryAfter = 0;
    try {
      const res = await operations[name]();
      await res.arrayBuffer();
      status = String(res.status);
      retryAfter = Number(res.headers.get('retry-after') ?? 0);
    } catch {
      // counted as "error"
    }
    const key = `${name} ${status}`;
    counts[key] = (counts[key] ?? 0) + 1;
    if (status === '429' && HONOUR_RETRY_AFTER === 'true' && retryAfter > 0) {
      await sleep(retryAfter * 1000, undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  }
}

await Promise.all(Array.from({ length: Number(CONNECTIONS) }, (_, i) => connection(i)));
process.stdout.write(`${JSON.stringify(counts)}\n`);

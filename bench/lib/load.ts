import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
  /** Answers by HTTP status (which non-2xx they were). */
  statusCodes: Record<string, number>;
}

/** Runs autocannon (for `durationSeconds` or until `amount` requests) and keeps the figures we report. */
export async function load(options: {
  url: string;
  connections: number;
  durationSeconds?: number;
  amount?: number;
  headers?: Record<string, string>;
  path?: () => string;
}): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    // autocannon refuses keys that are present but undefined
    ...(options.durationSeconds ? { duration: options.durationSeconds } : {}),
    ...(options.amount ? { amount: options.amount } : {}),
    headers: options.headers,
    ...(options.path ? { requests: [{ setupRequest: (request: autocannon.Request) => ({ ...request, path: options.path?.() ?? request.path }) }] } : {}),
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, stats]) => [status, stats?.count ?? 0])),
  };
}

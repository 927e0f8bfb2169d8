import { setTimeout as sleep } from 'node:timers/promises';
import { startApi } from '../../harness/built-service';
import { freePort, SERVICE_ADMIN_EMAIL, SERVICE_ADMIN_PASSWORD, type ServiceEnv } from '../../harness/service-env';
import type { ServiceProcess } from '../../harness/service-process';

/** A tiny client of the running API (fetch, JSON, the platform admin's token). */
export class ServiceClient {
  token = '';

  constructor(readonly env: ServiceEnv) {}

  async login(): Promise<void> {
    const res = await this.request('POST', '/auth/login', { email: SERVICE_ADMIN_EMAIL, password: SERVICE_ADMIN_PASSWORD });
    this.token = res.body.access_token as string;
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.env.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  }

  /** `server`: place it on that registered database server (`database_server`), else the service chooses. */
  async createOrganization(name: string, server?: string): Promise<string> {
    const res = await this.request('POST', '/organizations', {
      organization_name: name,
      email: 'owner@bench.test',
      password: 'bench password',
      ...(server ? { database_server: server } : {}),
    });
    if (res.status !== 202) throw new Error(`POST /organizations answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  /** Follows the status with long-polls (`Prefer: wait=30`) until it is final; never sleeps. */
  async waitActive(id: string): Promise<void> {
    for (;;) {
      const res = await this.request('GET', `/organizations/${id}/status`, undefined, { prefer: 'wait=30' });
      if (res.body.status === 'active') return;
      if (res.body.status === 'failed' || res.status >= 400) throw new Error(`organization ${id}: ${JSON.stringify(res.body)}`);
    }
  }

  /** Follows the status with long-polls until it is `status` (or `failed`, which throws). */
  async waitStatus(id: string, status: string): Promise<void> {
    for (;;) {
      const res = await this.request('GET', `/organizations/${id}/status`, undefined, { prefer: 'wait=30' });
      if (res.body.status === status) return;
      if (res.body.status === 'failed' || res.status >= 400) throw new Error(`organization ${id}: ${JSON.stringify(res.body)}`);
    }
  }

  async waitMigrationRun(id: string): Promise<Record<string, unknown>> {
    for (;;) {
      const res = await this.request('GET', `/migrations/runs/${id}`);
      if (res.body.status === 'completed' || res.body.status === 'failed') return res.body;
      await sleep(100);
    }
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function inPool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index], index);
      }
    }),
  );
}

/**
 * Another API replica on the same environment (control database, Redis, org and queue prefixes)
 * on a port of its own, as `startApi` starts the first one, with `overrides` on top of its
 * variables; the client shares `client`'s token.
 */
export async function startReplica(
  client: ServiceClient,
  name = 'api-2',
  overrides: Record<string, string> = {},
): Promise<{ process: ServiceProcess; client: ServiceClient }> {
  const port = await freePort();
  const variables = { ...overrides, PORT: String(port) };
  const env: ServiceEnv = { ...client.env, port, baseUrl: `http://127.0.0.1:${port}`, env: { ...client.env.env, ...variables } };
  const replica = await startApi(env, variables, name);
  const replicaClient = new ServiceClient(env);
  replicaClient.token = client.token;
  return { process: replica, client: replicaClient };
}

/**
 * Opens `GET /organizations/:id/events` and resolves once its first frame (the current status)
 * has arrived, with the status it carried and a way to close the stream; rejects when the
 * answer is not a 200 event stream.
 */
export async function openStatusStream(client: ServiceClient, id: string): Promise<{ firstStatus: string; ended: () => boolean; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(`${client.env.baseUrl}/organizations/${id}/events`, {
    headers: { authorization: `Bearer ${client.token}`, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`GET /organizations/${id}/events answered ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let ended = false;
  let firstStatus: string | undefined;
  while (firstStatus === undefined) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the event stream of ${id} ended before its first frame`);
    text += decoder.decode(value, { stream: true });
    const data = /^data: (.*)$/m.exec(text);
    if (data) firstStatus = (JSON.parse(data[1]) as { status: string }).status;
  }
  // Keep draining (keep-alives, further frames) so the stream stays open until closed; note when the server ends it.
  void (async () => {
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch {
      // aborted by close()
    }
    ended = true;
  })();
  return { firstStatus, ended: () => ended, close: () => abort.abort() };
}

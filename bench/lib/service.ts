import { setTimeout as sleep } from 'node:timers/promises';
import { SERVICE_ADMIN_EMAIL, SERVICE_ADMIN_PASSWORD, type ServiceEnv } from '../../harness/service-env';

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

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startApi, startWorker } from '../../harness/built-service';
import { freePort, isolatedServiceEnv, SERVICE_ADMIN_EMAIL, SERVICE_ADMIN_PASSWORD, type ServiceEnv } from '../../harness/service-env';
import type { ServiceProcess } from '../../harness/service-process';
import { waitUntil } from '../../harness/wait';
import { DATABASES_FILE, PGBOUNCER_ADMIN, PGBOUNCER_POOL, query, SECOND_SERVER, stopFleet } from '../support/fleet-processes';
import { ThrowawayRedis } from '../support/service-processes';
import { LatencyProxy } from './latency-proxy';

const run = promisify(execFile);

export const PGBOUNCER_DIR = '/tmp/orgms-fleet/pgbouncer';
export const SECOND_PORT = 5433;
export type ProcessName = 'api-1' | 'api-2' | 'worker-1' | 'worker-2';

/**
 * The soak's own fleet: two APIs and two workers from `dist`, a throwaway Redis, the control plane
 * and `default` on 5432, `pg-b` (5433) registered through a latency proxy, PgBouncer (6432) in
 * front of both. Every process can be killed and started again with the same configuration.
 */
export class ChaosFleet {
  readonly processes = new Map<ProcessName, ServiceProcess>();
  readonly apiUrls: string[];
  pgB = '';

  private constructor(
    readonly fe: ServiceEnv,
    readonly redis: ThrowawayRedis,
    readonly proxy: LatencyProxy,
    readonly archiveDir: string,
    private readonly api2Port: number,
  ) {
    this.apiUrls = [fe.baseUrl, `http://127.0.0.1:${api2Port}`];
  }

  static async start(): Promise<ChaosFleet> {
    const redis = await ThrowawayRedis.start();
    const proxy = await LatencyProxy.start(SECOND_PORT);
    const archiveDir = mkdtempSync(join(tmpdir(), 'orgms-chaos-archives-'));
    const fe = await isolatedServiceEnv(
      {
        REDIS_URL: redis.url,
        PGBOUNCER_DATABASES_FILE: DATABASES_FILE,
        PGBOUNCER_ADMIN_URL: PGBOUNCER_ADMIN,
        ARCHIVE_DIR: archiveDir,
        // The reconciler is what brings back work a flushed Redis lost: run it often here.
        RECONCILE_INTERVAL_MS: '5000',
        RECONCILE_STUCK_AFTER_MS: '10000',
        // Retries that outlast the longest fault window (a stopped server for up to 20 s).
        PROVISION_ATTEMPTS: '8',
        PROVISION_BACKOFF_MS: '1000',
        MIGRATION_ATTEMPTS: '6',
        MIGRATION_BACKOFF_MS: '1000',
        // The clients log in again and again: the throttle is not what the soak is about.
        LOGIN_RATE_LIMIT_PER_IP: '1000000',
        LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000000',
      },
      'chaos',
    );
    const fleet = new ChaosFleet(fe, redis, proxy, archiveDir, await freePort());
    for (const name of ['api-1', 'api-2', 'worker-1', 'worker-2'] as const) await fleet.startProcess(name);
    await fleet.registerServers();
    return fleet;
  }

  async startProcess(name: ProcessName): Promise<void> {
    if (name === 'api-1') this.processes.set(name, await startApi(this.fe, {}, name));
    else if (name === 'api-2') {
      const fe2 = { ...this.fe, port: this.api2Port, baseUrl: this.apiUrls[1] };
      this.processes.set(name, await startApi(fe2, { PORT: String(this.api2Port) }, name));
    } else this.processes.set(name, await startWorker(this.fe, {}, name));
  }

  /** SIGKILL, then the same process again (retried while a fault elsewhere keeps it from starting). */
  async killAndRestart(name: ProcessName, downMs: number): Promise<void> {
    await this.processes.get(name)?.kill();
    await sleep(downMs);
    await waitUntil(
      async () => {
        await this.processes.get(name)?.kill();
        await this.startProcess(name);
        return true;
      },
      120000,
      `${name} to start again`,
      1000,
    );
  }

  /** pg-b through the proxy (admin) and PgBouncer (pool); `default` pooled through PgBouncer too. */
  private async registerServers(): Promise<void> {
    const token = await this.adminToken();
    const call = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${this.fe.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
      return json;
    };
    const added = await call('POST', '/database-servers', {
      name: 'pg-b',
      admin_url: `postgres://postgres@127.0.0.1:${this.proxy.port}/postgres`,
      pool_url: PGBOUNCER_POOL,
      capacity: 1000,
      connection_budget: 10,
    });
    this.pgB = added.id as string;
    const servers = (await call('GET', '/database-servers', undefined)).items as { id: string; name: string }[];
    const fallback = servers.find((s) => s.name === 'default') as { id: string };
    await call('PATCH', `/database-servers/${fallback.id}`, { capacity: 1000, pool_url: PGBOUNCER_POOL, connection_budget: 10 });
    // Every process re-reads the fleet within 5 s (fleet/server-directory.ts).
    await sleep(5500);
  }

  async adminToken(): Promise<string> {
    const res = await fetch(`${this.fe.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: SERVICE_ADMIN_EMAIL, password: SERVICE_ADMIN_PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`admin login answered ${res.status}`);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  /** Terminates every backend of this environment's databases (control and organizations) on both servers. */
  async terminateBackends(): Promise<number> {
    let count = 0;
    for (const url of [`postgres://postgres@127.0.0.1:5432/postgres`, SECOND_SERVER]) {
      const rows = await query(
        url,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE pid <> pg_backend_pid() AND (datname = $1 OR left(datname, length($2)) = $2)`,
        [this.fe.controlDatabase, this.fe.orgPrefix],
      ).catch(() => []);
      count += rows.length;
    }
    return count;
  }

  async stopSecondServer(): Promise<void> {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'second', 'stop', '-m', 'fast']);
  }

  async startSecondServer(): Promise<void> {
    await waitUntil(
      async () => {
        await run('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'second', 'start']).catch(() => undefined);
        await query(SECOND_SERVER, 'SELECT 1');
        return true;
      },
      60000,
      'the second PostgreSQL server to start',
      1000,
    );
  }

  /** Stops PgBouncer (SIGINT: at once) and starts it as ensure-fleet-services.sh does. */
  async restartPgBouncer(downMs: number): Promise<void> {
    const pid = Number(readFileSync(join(PGBOUNCER_DIR, 'pgbouncer.pid'), 'utf8').trim());
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
    await waitUntil(
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      20000,
      'PgBouncer to stop',
    );
    await sleep(downMs);
    await this.startPgBouncer();
  }

  async startPgBouncer(): Promise<void> {
    await run('runuser', ['-u', 'postgres', '--', '/usr/sbin/pgbouncer', '-d', '-q', join(PGBOUNCER_DIR, 'pgbouncer.ini')]).catch(() => undefined);
    await waitUntil(async () => (await query(PGBOUNCER_ADMIN, 'SHOW VERSION')).length > 0, 20000, 'PgBouncer to start');
  }

  /** Everything back up (whatever a fault left down), then every process killed and every database, key and file removed. */
  async stop(): Promise<void> {
    this.proxy.delayMs = 0;
    await this.startSecondServer().catch(() => undefined);
    if (!(await query(PGBOUNCER_ADMIN, 'SHOW VERSION').catch(() => undefined))) await this.startPgBouncer().catch(() => undefined);
    await stopFleet(this.fe);
    await this.redis.dispose();
    await this.proxy.stop();
    rmSync(this.archiveDir, { recursive: true, force: true });
  }
}

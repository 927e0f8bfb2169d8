import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startApi, startWorker } from '../../harness/built-service';
import { NetworkProxy } from '../../harness/network-proxy';
import { dropServiceResources, freePort, isolatedServiceEnv, SERVICE_ADMIN_EMAIL, SERVICE_ADMIN_PASSWORD, type ServiceEnv } from '../../harness/service-env';
import { killAll, printLogs, type ServiceProcess } from '../../harness/service-process';
import { waitUntil } from '../../harness/wait';
import { DATABASES_FILE, dropOrganizationsOn, query } from '../support/fleet-processes';
import { ThrowawayRedis } from '../support/service-processes';

const run = promisify(execFile);

/** The soak's own second server (scripts/fleet/ensure-chaos-server.sh): stopping it as a fault disturbs nobody else. */
export const SECOND_PORT = 5434;
export const SECOND_SERVER = `postgres://postgres@127.0.0.1:${SECOND_PORT}/postgres`;
export type ProcessName = 'api-1' | 'api-2' | 'worker-1' | 'worker-2';

/**
 * The soak's own fleet: two APIs and two workers from `dist`, a throwaway Redis (reached through a
 * proxy, so the network to it can stall), the control plane and `default` on 5432, `pg-b` (5434)
 * registered through a proxy (slow network, stalls), a PgBouncer of its own in front of both. Every process can be killed and started again with the same configuration.
 */
export class ChaosFleet {
  readonly processes = new Map<ProcessName, ServiceProcess>();
  readonly apiUrls: string[];
  pgB = '';

  private constructor(
    readonly fe: ServiceEnv,
    readonly redis: ThrowawayRedis,
    readonly proxy: NetworkProxy,
    /** Between every process and the throwaway Redis (the nemesis and the checker reach it directly). */
    readonly redisProxy: NetworkProxy,
    readonly pgbouncer: PgBouncer,
    private readonly api2Port: number,
  ) {
    this.apiUrls = [fe.baseUrl, `http://127.0.0.1:${api2Port}`];
  }

  /** The environment's own (isolatedServiceEnv), removed with the rest of it. */
  get archiveDir(): string {
    return this.fe.env.ARCHIVE_DIR;
  }

  /** The same for exports (EXPORT_DIR). */
  get exportDir(): string {
    return this.fe.env.EXPORT_DIR;
  }

  static async start(): Promise<ChaosFleet> {
    const redis = await ThrowawayRedis.start();
    const proxy = await NetworkProxy.start(SECOND_PORT);
    const redisProxy = await NetworkProxy.start(redis.port);
    const pgbouncer = await PgBouncer.start();
    const fe = await isolatedServiceEnv(
      {
        REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
        PGBOUNCER_DATABASES_FILE: pgbouncer.databasesFile,
        PGBOUNCER_ADMIN_URL: pgbouncer.adminUrl,
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
        // Webhooks go to the soak's own receiver on 127.0.0.1; its refusals are retried soon (100 ms,
        // doubled), and lanes whose notification or job a fault lost are swept up every 2 s.
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_BASE_MS: '100',
        WEBHOOK_TIMEOUT_MS: '5000',
        WEBHOOK_SWEEP_INTERVAL_MS: '2000',
        // As in production (the harness turns them off): creations claim spares, refills run beside the faults.
        SPARE_DATABASES: '2',
      },
      'chaos',
    );
    const fleet = new ChaosFleet(fe, redis, proxy, redisProxy, pgbouncer, await freePort());
    try {
      for (const name of ['api-1', 'api-2', 'worker-1', 'worker-2'] as const) await fleet.startProcess(name);
      await fleet.registerServers();
    } catch (error) {
      // A fleet that did not start says why, and leaves nothing behind either.
      printLogs();
      await fleet.stop().catch(() => undefined);
      throw error;
    }
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
      pool_url: this.pgbouncer.poolUrl,
      capacity: 1000,
      connection_budget: 10,
    });
    this.pgB = added.id as string;
    const servers = (await call('GET', '/database-servers', undefined)).items as { id: string; name: string }[];
    const fallback = servers.find((s) => s.name === 'default') as { id: string };
    await call('PATCH', `/database-servers/${fallback.id}`, { capacity: 1000, pool_url: this.pgbouncer.poolUrl, connection_budget: 10 });
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
    for (const url of ['postgres://postgres@127.0.0.1:5432/postgres', SECOND_SERVER]) {
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
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'chaos', 'stop', '-m', 'fast']);
  }

  async startSecondServer(): Promise<void> {
    await waitUntil(
      async () => {
        await run('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'chaos', 'start']).catch(() => undefined);
        await query(SECOND_SERVER, 'SELECT 1');
        return true;
      },
      60000,
      'the second PostgreSQL server to start',
      1000,
    );
  }

  /** Everything back up (whatever a fault left down), then every process killed and every database, role, key and file removed. */
  async stop(): Promise<void> {
    this.proxy.delayMs = 0;
    this.proxy.thaw();
    this.redisProxy.thaw();
    await this.startSecondServer().catch(() => undefined);
    await killAll();
    await dropOrganizationsOn(SECOND_SERVER, this.fe.orgPrefix);
    await dropServiceResources(this.fe);
    await this.pgbouncer.dispose();
    await this.redis.dispose();
    await this.proxy.stop();
    await this.redisProxy.stop();
  }
}

/**
 * The soak's own PgBouncer (the settings of scripts/fleet/ensure-fleet-services.sh, another port
 * and directory): the worker rewrites its whole entries file, and the nemesis restarts it, which
 * must not touch the shared one other test runs use.
 */
export class PgBouncer {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PgBouncer> {
    const dir = mkdtempSync(join(tmpdir(), 'orgms-chaos-pgbouncer-'));
    chmodSync(dir, 0o755);
    const pgbouncer = new PgBouncer(dir, await freePort());
    // The shared PgBouncer's configuration (written by ensure-fleet-services.sh, which `npm run
    // test:chaos` runs first) with this one's directory and port, so the two cannot drift apart.
    const sharedDir = dirname(DATABASES_FILE);
    const ini = readFileSync(join(sharedDir, 'pgbouncer.ini'), 'utf8')
      .replaceAll(sharedDir, dir)
      .replace(/^listen_port = \d+$/m, `listen_port = ${pgbouncer.port}`);
    if (!ini.includes(`listen_port = ${pgbouncer.port}\n`)) throw new Error(`no listen_port in ${sharedDir}/pgbouncer.ini`);
    writeFileSync(join(dir, 'pgbouncer.ini'), ini);
    writeFileSync(join(dir, 'userlist.txt'), '"postgres" ""\n');
    writeFileSync(pgbouncer.databasesFile, '; organization databases, written by the service\n');
    await run('chown', ['postgres:postgres', dir]);
    await pgbouncer.start();
    return pgbouncer;
  }

  get databasesFile(): string {
    return join(this.dir, 'databases.ini');
  }

  /** Its log (logins refused, servers closed): kept with the run's logs. */
  get logFile(): string {
    return join(this.dir, 'pgbouncer.log');
  }

  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/pgbouncer`;
  }

  get poolUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    await run('runuser', ['-u', 'postgres', '--', '/usr/sbin/pgbouncer', '-d', '-q', join(this.dir, 'pgbouncer.ini')]).catch(() => undefined);
    await waitUntil(async () => (await query(this.adminUrl, 'SHOW VERSION')).length > 0, 20000, 'PgBouncer to start');
  }

  /** SIGINT (at once, every connection closed), and wait until it is gone. */
  async stop(): Promise<void> {
    const pid = Number(readFileSync(join(this.dir, 'pgbouncer.pid'), 'utf8').trim());
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (alive()) process.kill(pid, 'SIGINT');
    await waitUntil(() => !alive(), 20000, 'PgBouncer to stop');
  }

  async restart(downMs: number): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

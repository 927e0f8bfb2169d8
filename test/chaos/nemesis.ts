import { setTimeout as sleep } from 'node:timers/promises';
import IORedis from 'ioredis';
import type { ChaosFleet, ProcessName } from './chaos-fleet';
import type { Random } from './random';

export type FaultKind =
  | 'redis_restart'
  | 'redis_flush'
  | 'pg_backends_terminated'
  | 'worker_killed'
  | 'api_killed'
  | 'second_server_stopped'
  | 'pgbouncer_restart'
  | 'slow_network'
  | 'network_stall';

export interface PlannedFault {
  kind: FaultKind;
  /** Offset from the start of the run. */
  at: number;
  /** How long the fault lasts (the time a process or server is down, the network slow). */
  durationMs: number;
  /** Which process (api-1/api-2/worker-1/worker-2), the proxy's delay, … */
  detail: string;
}

/** A fault as it happened: from its first action until everything it broke was started again. */
export interface FaultWindow extends PlannedFault {
  start: number;
  end: number;
  error?: string;
}

/** Weights of the faults the schedule draws from (the one Redis flush is placed separately). */
const WEIGHTS: Record<Exclude<FaultKind, 'redis_flush'>, number> = {
  redis_restart: 2,
  pg_backends_terminated: 3,
  worker_killed: 3,
  api_killed: 2,
  second_server_stopped: 2,
  pgbouncer_restart: 2,
  slow_network: 2,
  network_stall: 2,
};

/**
 * The seeded schedule: no fault in the first `warmupMs`, none after `faultsEndMs`, one at a
 * time with a pause between them, and Redis flushed once (in the middle), so the reconciler has
 * to bring back the jobs it lost.
 */
export function planFaults(random: Random, warmupMs: number, faultsEndMs: number): PlannedFault[] {
  const faults: PlannedFault[] = [];
  let at = warmupMs;
  const flushAt = warmupMs + (faultsEndMs - warmupMs) / 2;
  let flushed = false;
  while (true) {
    const kind: FaultKind = !flushed && at >= flushAt ? 'redis_flush' : random.weighted(WEIGHTS);
    if (kind === 'redis_flush') flushed = true;
    const fault = describe(kind, at, random);
    if (fault.at + fault.durationMs > faultsEndMs) break;
    faults.push(fault);
    at = fault.at + fault.durationMs + random.int(4000, 12000);
  }
  return faults;
}

function describe(kind: FaultKind, at: number, random: Random): PlannedFault {
  switch (kind) {
    case 'redis_restart':
      return { kind, at, durationMs: random.int(2000, 8000), detail: 'throwaway Redis stopped, then started empty' };
    case 'redis_flush':
      return { kind, at, durationMs: 1000, detail: 'FLUSHALL: every queued job and lock lost' };
    case 'pg_backends_terminated':
      return { kind, at, durationMs: random.int(2000, 6000), detail: 'every backend of this environment terminated every second' };
    case 'worker_killed':
      return { kind, at, durationMs: random.int(1000, 5000), detail: random.pick(['worker-1', 'worker-2']) };
    case 'api_killed':
      return { kind, at, durationMs: random.int(1000, 4000), detail: random.pick(['api-1', 'api-2']) };
    case 'second_server_stopped':
      return { kind, at, durationMs: random.int(5000, 20000), detail: 'pg_ctlcluster 15 chaos stop -m fast, then start' };
    case 'pgbouncer_restart':
      return { kind, at, durationMs: random.int(1000, 5000), detail: 'PgBouncer stopped (SIGINT), then started' };
    case 'slow_network':
      return { kind, at, durationMs: random.int(8000, 20000), detail: `${random.int(50, 400)} ms per chunk to and from pg-b` };
    case 'network_stall':
      return { kind, at, durationMs: random.int(2000, 8000), detail: `${random.pick(['pg-b', 'redis'])}: nothing forwarded either way, nothing refused` };
  }
}

export function formatSchedule(faults: PlannedFault[]): string {
  return faults
    .map((f) => `  +${(f.at / 1000).toFixed(1).padStart(6)} s  ${f.kind.padEnd(24)} ${(f.durationMs / 1000).toFixed(1).padStart(5)} s  ${f.detail}`)
    .join('\n');
}

/** Injects the planned faults at their times (relative to `startedAt`), recording each window as it really was. */
export class Nemesis {
  readonly windows: FaultWindow[] = [];

  constructor(
    private readonly fleet: ChaosFleet,
    private readonly plan: PlannedFault[],
  ) {}

  async run(startedAt: number): Promise<void> {
    for (const fault of this.plan) {
      const wait = startedAt + fault.at - Date.now();
      if (wait > 0) await sleep(wait);
      const window: FaultWindow = { ...fault, start: Date.now(), end: 0 };
      this.windows.push(window);
      try {
        await this.inject(fault);
      } catch (error) {
        window.error = (error as Error).message;
      }
      window.end = Date.now();
      console.log(`  fault ${fault.kind} (${fault.detail}) ${((window.end - window.start) / 1000).toFixed(1)} s${window.error ? `: ${window.error}` : ''}`);
    }
  }

  private async inject(fault: PlannedFault): Promise<void> {
    const { fleet } = this;
    switch (fault.kind) {
      case 'redis_restart':
        await fleet.redis.stop();
        await sleep(fault.durationMs);
        await fleet.redis.start();
        return;
      case 'redis_flush': {
        const redis = new IORedis(fleet.redis.url, { maxRetriesPerRequest: 1 });
        redis.on('error', () => undefined);
        try {
          await redis.flushall();
        } finally {
          redis.disconnect();
        }
        await sleep(fault.durationMs);
        return;
      }
      case 'pg_backends_terminated': {
        const until = Date.now() + fault.durationMs;
        while (Date.now() < until) {
          await fleet.terminateBackends();
          await sleep(1000);
        }
        return;
      }
      case 'worker_killed':
      case 'api_killed':
        await fleet.killAndRestart(fault.detail as ProcessName, fault.durationMs);
        return;
      case 'second_server_stopped':
        await fleet.stopSecondServer();
        await sleep(fault.durationMs);
        await fleet.startSecondServer();
        return;
      case 'pgbouncer_restart':
        await fleet.pgbouncer.restart(fault.durationMs);
        return;
      case 'slow_network':
        fleet.proxy.delayMs = Number(fault.detail.split(' ')[0]);
        await sleep(fault.durationMs);
        fleet.proxy.delayMs = 0;
        return;
      case 'network_stall': {
        // Packets dropped, as after a switch failure: connections stay open and new ones are accepted, but nothing flows.
        const proxy = fault.detail.startsWith('redis') ? fleet.redisProxy : fleet.proxy;
        proxy.freeze();
        await sleep(fault.durationMs);
        proxy.thaw();
        return;
      }
    }
  }
}

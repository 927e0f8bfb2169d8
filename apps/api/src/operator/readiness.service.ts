import { withTimeout } from '@orgms/common/process/timeout';
import type { RedisConnection } from '@orgms/common/queues/redis';
import type { DataSource } from 'typeorm';

const CHECK_TIMEOUT_MS = 1500;

export type CheckResult = 'ok' | 'unavailable';

async function check(probe: () => Promise<unknown>): Promise<CheckResult> {
  try {
    await withTimeout(probe(), CHECK_TIMEOUT_MS, 'readiness check');
    return 'ok';
  } catch {
    return 'unavailable';
  }
}

/**
 * Whether this API process can serve: the control database is migrated (bootstrap admin
 * included) and answers, and Redis answers. The process starts before either is reachable.
 */
export class ReadinessService {
  private controlPlaneReady = false;

  constructor(
    private readonly controlDb: DataSource,
    private readonly redis: RedisConnection,
  ) {}

  /** Called once by the runtime when the control database is migrated and the bootstrap admin exists. */
  markControlPlaneReady(): void {
    this.controlPlaneReady = true;
  }

  /** Routes that need the control database answer 503 until this is true. */
  get isControlPlaneReady(): boolean {
    return this.controlPlaneReady;
  }

  /** Whether Redis is connected right now (no round trip), e.g. before reading job counts. */
  get isRedisConnected(): boolean {
    return this.redis.status === 'ready';
  }

  /** Asks each dependency, each within a short time limit. */
  async check(): Promise<{ postgres: CheckResult; redis: CheckResult }> {
    const [postgres, redis] = await Promise.all([
      check(async () => {
        if (!this.controlPlaneReady) throw new Error('not migrated yet');
        await this.controlDb.query('SELECT 1');
      }),
      check(() => this.redis.ping()),
    ]);
    return { postgres, redis };
  }
}

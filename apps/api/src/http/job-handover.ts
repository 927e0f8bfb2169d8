import type { Logger } from '@orgms/common/logger';
import { withTimeout } from '@orgms/common/process/timeout';

/** How long a request may wait for Redis before the job is handed over instead. */
const ENQUEUE_TIMEOUT_MS = 1000;
/** Jobs kept for the reconnect; past this the reconciler is the only way back (it always is one). */
const MAX_HELD = 10000;

/**
 * Asks for a job after its change is committed, without making the caller wait on a dead Redis:
 * a job Redis refuses is held in this process and asked for again as soon as the connection is
 * ready (`redeliver`, on the connection's `ready` event), so an organization created during an
 * outage starts within moments of Redis coming back instead of at the reconciler's next pass.
 * Asking twice is harmless: every job has a deterministic id (queues/registry.ts). The
 * reconciler still covers what a process that died meanwhile was holding.
 */
export class JobHandover {
  private readonly held = new Map<string, () => Promise<unknown>>();

  constructor(private readonly logger: Logger) {}

  /** Enqueues with `add`, or holds it under `key` (e.g. `provision:<orgId>`) for the reconnect. */
  async submit(key: string, add: () => Promise<unknown>): Promise<void> {
    try {
      await withTimeout(add(), ENQUEUE_TIMEOUT_MS, `enqueueing ${key}`);
      this.held.delete(key);
    } catch (error) {
      if (this.held.size < MAX_HELD) this.held.set(key, add);
      this.logger.warn('could not enqueue; holding the job until Redis is back', { job: key, error: (error as Error).message });
    }
  }

  /** Asks again for every held job; those Redis still refuses stay held. */
  async redeliver(): Promise<number> {
    let delivered = 0;
    for (const [key, add] of [...this.held]) {
      try {
        await withTimeout(add(), ENQUEUE_TIMEOUT_MS, `enqueueing ${key}`);
        this.held.delete(key);
        delivered += 1;
      } catch (error) {
        this.logger.warn('could not hand over a held job yet', { job: key, error: (error as Error).message });
        break; // Redis is not there after all: the next `ready` tries again.
      }
    }
    if (delivered > 0) this.logger.info('handed over jobs held during a Redis outage', { delivered, stillHeld: this.held.size });
    return delivered;
  }

  get heldJobs(): number {
    return this.held.size;
  }
}

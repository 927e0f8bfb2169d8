/** How long an entry may serve at most, even with no message about it: a backstop, not the mechanism. */
const DEFAULT_TTL_MS = 10000;

interface Loading<V> {
  value: Promise<V>;
  /** Set when a change was heard while loading: the loaded value may predate it, so it is not kept. */
  invalidated: boolean;
}

/**
 * A per-replica cache of control-plane rows that pub/sub messages keep honest: every change is
 * published after commit (events/organization-events.ts), each replica drops the entry when it
 * hears it, and the whole cache is dropped and bypassed whenever the subscription is down, so an
 * answer can be stale for at most the pub/sub delay. Concurrent misses of one key share one load,
 * and a load that overlaps a change is returned but not kept. Values are shared between callers:
 * they are frozen.
 */
export class InvalidatedCache<V extends object> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  private readonly loading = new Map<string, Loading<V>>();

  constructor(
    private readonly options: {
      /** Whether the invalidating subscription is up right now. */
      isLive: () => boolean;
      maxEntries: number;
      ttlMs?: number;
    },
  ) {}

  async get(key: string, load: () => Promise<V>): Promise<V> {
    if (!this.options.isLive()) return load();
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.at < (this.options.ttlMs ?? DEFAULT_TTL_MS)) {
      // Re-inserting keeps the map in least-recently-used-first order.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const pending = this.loading.get(key);
    if (pending) return pending.value;
    const loading: Loading<V> = { value: load().then((value) => Object.freeze(value)), invalidated: false };
    this.loading.set(key, loading);
    try {
      const value = await loading.value;
      if (!loading.invalidated && this.options.isLive()) this.keep(key, value);
      return value;
    } finally {
      this.loading.delete(key);
    }
  }

  invalidate(key: string): void {
    this.entries.delete(key);
    const pending = this.loading.get(key);
    if (pending) pending.invalidated = true;
  }

  /** Forgets everything (the subscription went down, or came back after missing messages). */
  clear(): void {
    this.entries.clear();
    for (const pending of this.loading.values()) pending.invalidated = true;
  }

  get size(): number {
    return this.entries.size;
  }

  private keep(key: string, value: V): void {
    this.entries.set(key, { value, at: Date.now() });
    if (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

import type { TenantPoolsConfig } from '@orgms/common/config';
import { createTenantDataSource, type ServerFacts, serverFactsOf } from '@orgms/common/database/tenant-data-source';
import { OrganizationDatabaseBusyError, ServiceUnavailableError } from '@orgms/common/errors';
import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import { type DatabaseLogin, tenantUrlOf } from '@orgms/common/fleet/server-urls';
import type { Logger } from '@orgms/common/logger';
import { withTimeout } from '@orgms/common/process/timeout';
import type { ClientBase } from 'pg';
import type { DataSource } from 'typeorm';

/** How long a closed pool's connections may take to close before its budget is returned anyway. */
const CLOSE_WAIT_MS = 5000;

/** What the manager needs to know about an organization: its id (the cache key), its database and how to log in. */
export interface TenantRef {
  id: string;
  databaseName: string;
  /** Its own role (tenant-logins.ts); absent: the server URL's role. A pool keeps the login it was opened with. */
  login?: DatabaseLogin;
}

export interface TenantConnectionManagerOptions {
  /** Connections per organization pool. */
  poolSize: number;
  /** Connections all pools together may hold; a pool reserves `poolSize` of it while it lives. */
  budget: number;
  /** An unused pool is closed after this long. */
  idleMs: number;
  /** How long a request waits for room in the budget, or for a connection of its organization's pool, before a 503. */
  acquireTimeoutMs: number;
  /** `onConnection` must be called with every connection the pool opens: the manager counts them until they have closed. */
  createDataSource: (org: TenantRef, poolSize: number, onConnection: (connection: ClientBase) => void) => DataSource;
  logger?: Logger;
}

export interface TenantConnectionStats {
  /** Pools in the cache (idle or in use). */
  pools: number;
  /** Pools evicted but still draining or closing. */
  closingPools: number;
  /** Budget reserved by live pools (`poolSize` each): never above `budget`. */
  reservedConnections: number;
  /** Connections open in all pools, counted until their socket has closed (draining pools included). */
  openConnections: number;
  budget: number;
  /** Callers waiting for room in the budget. */
  waiting: number;
  /** Calls that found their organization's pool open (hits) or had to open one (misses), since the manager started. */
  poolHits: number;
  poolMisses: number;
}

interface Entry {
  ref: TenantRef;
  ready: Promise<DataSource>;
  /** Callers currently using the pool or waiting for one of its connections; a leased pool is never evicted. */
  leases: number;
  /** Callers running work on it: at most `poolSize`, one connection each. */
  working: number;
  /** Callers waiting for one of them to finish (bounded by `acquireTimeoutMs`). */
  turnWaiters: Set<() => void>;
  lastUsed: number;
  /** Its connections not yet closed: a socket outlives the pool's `end()`, which does not wait for it. */
  connections: number;
  onAllClosed?: () => void;
  closing?: Promise<void>;
  onDrained?: () => void;
}

/**
 * Resolves an organization to a DataSource on its own database on ONE server, from a bounded
 * cache, so that thousands of organizations never exhaust the server's `max_connections`
 * (tenancy/tenant-databases.ts keeps one manager per server):
 * - LRU: the map keeps use order; when the budget is full the least recently used idle pool is
 *   evicted to make room, one per waiting caller (pools already closing count).
 * - The budget is enforced by reservation: a pool counts `poolSize` connections from the moment
 *   it is created until every connection it opened has closed, so the number of open tenant
 *   connections can never exceed `budget`, whatever the pools do internally. `destroy()` alone
 *   is not enough: pg's pool resolves `end()` as soon as it has asked its connections to close,
 *   while the sockets (and their server sessions) are still there for a moment; a pool opened
 *   in that moment would exceed the budget. The pools do not close idle connections themselves
 *   (the manager closes whole pools), so a pool never opens a replacement beside a closing one.
 * - A cold pool costs one connect: `forServer` hands the server facts TypeORM asks on a first
 *   connection (version, search schema) from the first pool that learned them to the next ones.
 * - When every pool is in use, callers wait (up to `acquireTimeoutMs`) for one to be released,
 *   then get a ServiceUnavailableError (503) rather than a connection error.
 * - Idle pools are destroyed after `idleMs` by a background sweep.
 * - One organization fails fast for itself: work waits for a connection of its own pool for at
 *   most `acquireTimeoutMs` too (a slow or locked database keeps every one busy), then gets an
 *   OrganizationDatabaseBusyError (503 `organization-database-busy`). Waiting there takes no
 *   budget (the pool holds its `poolSize` already) and no connection, so other organizations'
 *   requests go on; the role's statement_timeout bounds the work that holds the connections.
 */
export class TenantConnectionManager {
  private readonly entries = new Map<string, Entry>();
  /** Every pool not yet destroyed, including evicted ones still draining (for stats). */
  private readonly live = new Set<Entry>();
  private readonly waiters = new Set<() => void>();
  private readonly sweeper: NodeJS.Timeout;
  private reserved = 0;
  private closed = false;
  private hits = 0;
  private misses = 0;

  constructor(private readonly options: TenantConnectionManagerOptions) {
    if (options.budget < options.poolSize) throw new Error('the connection budget must hold at least one pool');
    this.sweeper = setInterval(() => this.sweepIdle(), Math.max(50, Math.floor(options.idleMs / 2)));
    this.sweeper.unref();
  }

  /** Pools on `server`, through its PgBouncer when it has one, within its connection budget. */
  static forServer(
    server: Pick<DatabaseServer, 'adminUrl' | 'poolUrl' | 'connectionBudget'>,
    pools: TenantPoolsConfig,
    logger?: Logger,
    overrides: Partial<TenantConnectionManagerOptions> = {},
  ): TenantConnectionManager {
    // The newest pool until one has learned the server's facts (a pool that failed to open learns nothing).
    let learning: DataSource | undefined;
    let facts: ServerFacts | undefined;
    return new TenantConnectionManager({
      poolSize: Math.min(pools.size, server.connectionBudget),
      budget: server.connectionBudget,
      idleMs: pools.idleMs,
      acquireTimeoutMs: pools.acquireTimeoutMs,
      createDataSource: (org, poolSize, onConnection) => {
        facts ??= learning && serverFactsOf(learning);
        const dataSource = createTenantDataSource(tenantUrlOf(server, org.databaseName, org.login), poolSize, {
          idleTimeoutMs: 0,
          timeouts: pools.timeouts,
          onConnection,
          serverFacts: facts,
        });
        if (!facts) learning = dataSource;
        return dataSource;
      },
      logger,
      ...overrides,
    });
  }

  /** Runs `work` with the organization's DataSource; the pool cannot be evicted until it settles. */
  async run<T>(org: TenantRef, work: (dataSource: DataSource) => Promise<T>): Promise<T> {
    const entry = await this.lease(org);
    try {
      await this.takeTurn(entry);
      try {
        return await work(await entry.ready);
      } finally {
        entry.working -= 1;
        for (const waiter of [...entry.turnWaiters]) waiter();
      }
    } finally {
      this.release(entry);
    }
  }

  /** A connection of the organization's own pool for this caller, or a 503 after the bounded wait. */
  private async takeTurn(entry: Entry): Promise<void> {
    const deadline = Date.now() + this.options.acquireTimeoutMs;
    while (entry.working >= this.options.poolSize) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new OrganizationDatabaseBusyError(
          "Every connection to this organization's database is busy; try again shortly.",
          Math.max(1, Math.ceil(this.options.acquireTimeoutMs / 1000)),
        );
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          entry.turnWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        entry.turnWaiters.add(done);
      });
    }
    entry.working += 1;
  }

  /**
   * Closes an organization's pool: call it when the organization is deleted (before its
   * database is dropped) so no pooled connection keeps the database alive or busy. Requests
   * already running finish first; later ones open a fresh pool. Resolves once destroyed;
   * a no-op when the organization has no pool.
   */
  evict(orgId: string): Promise<void> {
    const entry = this.entries.get(orgId);
    return entry ? this.retire(entry) : Promise.resolve();
  }

  stats(): TenantConnectionStats {
    let open = 0;
    for (const entry of this.live) open += entry.connections;
    return {
      pools: this.entries.size,
      closingPools: this.live.size - this.entries.size,
      reservedConnections: this.reserved,
      openConnections: open,
      budget: this.options.budget,
      waiting: this.waiters.size,
      poolHits: this.hits,
      poolMisses: this.misses,
    };
  }

  /** Destroys every pool (waiting for running work) and refuses new work. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.wake();
    await Promise.all([...this.entries.values()].map((entry) => this.retire(entry)));
    await Promise.all([...this.live].map((entry) => entry.closing));
  }

  private async lease(org: TenantRef): Promise<Entry> {
    const deadline = Date.now() + this.options.acquireTimeoutMs;
    for (;;) {
      if (this.closed) throw new ServiceUnavailableError('The service is shutting down.');
      const existing = this.entries.get(org.id);
      if (existing) {
        // Re-inserting keeps the map in least-recently-used-first order.
        this.entries.delete(org.id);
        this.entries.set(org.id, existing);
        existing.leases += 1;
        existing.lastUsed = Date.now();
        this.hits += 1;
        return existing;
      }
      if (this.reserved + this.options.poolSize <= this.options.budget) {
        this.misses += 1;
        return this.open(org);
      }
      // Every pool already closing brings room for one waiting caller: evict another only for a caller beyond them.
      // (Each caller evicting on every wake-up closed far more pools than the callers needed, and so missed more.)
      if (this.live.size - this.entries.size <= this.waiters.size) this.evictLeastRecentlyUsedIdle();
      await this.waitForRoom(deadline);
    }
  }

  private open(org: TenantRef): Entry {
    // Connections open asynchronously, after `entry` is set below.
    let opened: Entry | undefined;
    const dataSource = this.options.createDataSource(org, this.options.poolSize, (connection) => opened && this.track(opened, connection));
    this.reserved += this.options.poolSize;
    const entry: Entry = { ref: org, ready: dataSource.initialize(), leases: 1, working: 0, turnWaiters: new Set(), lastUsed: Date.now(), connections: 0 };
    opened = entry;
    this.entries.set(org.id, entry);
    this.live.add(entry);
    entry.ready.catch((error: Error) => {
      // A pool that failed to connect is dropped at once so the next request tries again.
      this.options.logger?.warn('tenant pool failed to open', { orgId: org.id, error: error.message });
      void this.retire(entry);
    });
    return entry;
  }

  /** Counts a connection of the entry's pool until its socket has closed (pg's 'end'). */
  private track(entry: Entry, connection: ClientBase): void {
    entry.connections += 1;
    connection.once('end', () => {
      entry.connections -= 1;
      if (entry.connections === 0) entry.onAllClosed?.();
    });
  }

  /** Resolves once the entry's connections have closed, or after CLOSE_WAIT_MS (a stalled network: its budget is not kept forever). */
  private async allClosed(entry: Entry): Promise<void> {
    if (entry.connections === 0) return;
    await withTimeout(new Promise<void>((resolve) => (entry.onAllClosed = resolve)), CLOSE_WAIT_MS, 'closing a tenant pool').catch(() =>
      this.options.logger?.warn('tenant pool connections still open after closing; their budget is returned', { orgId: entry.ref.id, open: entry.connections }),
    );
  }

  private release(entry: Entry): void {
    entry.leases -= 1;
    entry.lastUsed = Date.now();
    if (entry.leases === 0) entry.onDrained?.();
    this.wake();
  }

  /** Removes the entry from the cache, waits for its leases, destroys it, then frees its budget. */
  private retire(entry: Entry): Promise<void> {
    if (this.entries.get(entry.ref.id) === entry) this.entries.delete(entry.ref.id);
    entry.closing ??= (async () => {
      if (entry.leases > 0) await new Promise<void>((resolve) => (entry.onDrained = resolve));
      try {
        const dataSource = await entry.ready;
        if (dataSource.isInitialized) await dataSource.destroy();
      } catch {
        // A pool that never opened holds no connection; one that fails to close is gone anyway.
      }
      try {
        await this.allClosed(entry);
      } finally {
        this.live.delete(entry);
        this.reserved -= this.options.poolSize;
        this.wake();
      }
    })();
    return entry.closing;
  }

  private evictLeastRecentlyUsedIdle(): void {
    for (const entry of this.entries.values()) {
      if (entry.leases === 0) {
        void this.retire(entry);
        return;
      }
    }
  }

  private sweepIdle(): void {
    const cutoff = Date.now() - this.options.idleMs;
    for (const entry of [...this.entries.values()]) {
      if (entry.leases === 0 && entry.lastUsed <= cutoff) void this.retire(entry);
    }
  }

  private waitForRoom(deadline: number): Promise<void> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new ServiceUnavailableError('Every organization database connection is busy; try again shortly.');
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, remaining);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

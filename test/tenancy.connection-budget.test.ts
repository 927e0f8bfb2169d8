import { randomBytes } from 'node:crypto';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TenantConnectionManager, type TenantRef } from '@orgms/api/tenancy/connection-manager';
import { quoteIdent } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { Client } from 'pg';

const SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** How long the proxy keeps a connection open after its client closed it: a server session that takes a moment to go. */
const CLOSE_DELAY_MS = 300;

/**
 * A TCP proxy to PostgreSQL that counts the connections open through it (the most at once) and
 * keeps each one open CLOSE_DELAY_MS after its client closed it, as a server session that has not
 * ended yet still counts against the server's connections. It also counts, per connection, the
 * statements the client sent (simple queries and parses).
 */
class SlowClosingProxy {
  open = 0;
  peak = 0;
  /** Statements sent on each connection, in the order they were opened. */
  readonly statements: number[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<SlowClosingProxy> {
    let proxy: SlowClosingProxy | undefined;
    const server = createServer({ allowHalfOpen: true }, (client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    proxy = new SlowClosingProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private accept(client: Socket, targetPort: number): void {
    this.open += 1;
    this.peak = Math.max(this.peak, this.open);
    const upstream = netConnect(targetPort, '127.0.0.1');
    let counted = true;
    const closeBoth = () => {
      if (counted) this.open -= 1;
      counted = false;
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', closeBoth);
      socket.on('close', () => {
        this.sockets.delete(socket);
        closeBoth();
      });
    }
    this.countStatements(client, this.statements.push(0) - 1);
    client.pipe(upstream, { end: false });
    upstream.pipe(client, { end: false });
    client.on('end', () => void sleep(CLOSE_DELAY_MS).then(closeBoth));
  }

  /** Frontend messages after the startup message (which has no type byte): 'Q' simple query, 'P' parse. */
  private countStatements(client: Socket, index: number): void {
    let pending = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const header = started ? 5 : 4;
        if (pending.length < header) return;
        const length = started ? pending.readInt32BE(1) + 1 : pending.readInt32BE(0);
        if (pending.length < length) return;
        if (started && (pending[0] === 0x51 || pending[0] === 0x50)) this.statements[index] += 1;
        started = true;
        pending = pending.subarray(length);
      }
    });
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Pools of one connection each within `budget`, with the default request bounds. */
const onePerPool = (budget: number) => ({ size: 1, budget, idleMs: 60000, acquireTimeoutMs: 5000, timeouts: { connectMs: 4000, queryMs: 4000 } });

describe('Tenant connection budget', () => {
  const prefix = `budget_${randomBytes(4).toString('hex')}_`;
  const refs: TenantRef[] = ['a', 'b'].map((name) => ({ id: `${prefix}${name}`, databaseName: `${prefix}${name}` }));
  let admin: Client;
  let proxy: SlowClosingProxy;

  before(async () => {
    admin = new Client({ connectionString: SERVER_URL });
    await admin.connect();
    for (const { databaseName } of refs) await admin.query(`CREATE DATABASE ${quoteIdent(databaseName)}`);
    proxy = await SlowClosingProxy.start(5432);
  });
  after(async function () {
    this.timeout(120000); // DROP DATABASE waits for a checkpoint, which takes long on a loaded machine
    await proxy?.stop();
    for (const { databaseName } of refs) await admin?.query(`DROP DATABASE IF EXISTS ${quoteIdent(databaseName)} WITH (FORCE)`);
    await admin?.end();
  });

  it("when the budget is full and one organization's pool makes room for another's, then the new pool connects only after the old one's connections have closed", async () => {
    const tenants = TenantConnectionManager.forServer({ adminUrl: proxy.url('postgres'), poolUrl: null, connectionBudget: 1 }, onePerPool(1));
    try {
      for (const ref of [...refs, ...refs]) {
        const [{ name }] = await tenants.run(ref, (db) => db.query('SELECT current_database() AS name'));
        expect(name).to.equal(ref.databaseName);
      }
      expect(proxy.peak, 'connections open at once through a budget of 1').to.equal(1);
      expect(tenants.stats()).to.include({ poolHits: 0, poolMisses: 4 });
    } finally {
      await tenants.close();
    }
  });

  it("when a server's second organization pool opens, then it sends only the work's statement (TypeORM's version and search schema probes are known from the first)", async () => {
    const tenants = TenantConnectionManager.forServer({ adminUrl: proxy.url('postgres'), poolUrl: null, connectionBudget: 2 }, onePerPool(2));
    const first = proxy.statements.length;
    try {
      for (const ref of refs) await tenants.run(ref, (db) => db.query('SELECT 1'));
      const [a, b] = proxy.statements.slice(first);
      expect(a, 'the first pool: version, search schema, then the work').to.equal(3);
      expect(b).to.equal(1);
    } finally {
      await tenants.close();
    }
  });

  it('when callers wait for room, then only as many idle pools are closed as they need, and the others stay open for their organizations', async () => {
    const [a, b, c, d, e] = ['a', 'b', 'a', 'b', 'a'].map((name, i) => ({ id: `${prefix}${i}`, databaseName: `${prefix}${name}` }));
    const tenants = TenantConnectionManager.forServer({ adminUrl: proxy.url('postgres'), poolUrl: null, connectionBudget: 3 }, onePerPool(3));
    try {
      for (const ref of [a, b, c]) await tenants.run(ref, (db) => db.query('SELECT 1'));
      // Two callers need room: a and b (least recently used) close, the first to close wakes both.
      await Promise.all([d, e].map((ref) => tenants.run(ref, (db) => db.query('SELECT 1'))));
      await tenants.run(c, (db) => db.query('SELECT 1'));
      expect(tenants.stats()).to.include({ poolMisses: 5, poolHits: 1 });
    } finally {
      await tenants.close();
    }
  });

  it('when an organization is read again while its pool is open, then the read counts as a pool hit', async () => {
    const tenants = TenantConnectionManager.forServer({ adminUrl: SERVER_URL, poolUrl: null, connectionBudget: 2 }, onePerPool(2));
    try {
      for (const ref of [refs[0], refs[0], refs[1], refs[0]]) await tenants.run(ref, (db) => db.query('SELECT 1'));
      expect(tenants.stats()).to.include({ poolHits: 2, poolMisses: 2, openConnections: 2 });
    } finally {
      await tenants.close();
    }
    expect(tenants.stats()).to.include({ openConnections: 0, reservedConnections: 0 });
  });
});

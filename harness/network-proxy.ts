import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A TCP proxy in front of a dependency (PostgreSQL, Redis, PgBouncer), so a test can give the
 * service a bad network to it without touching the shared server:
 * - slow: every chunk, both ways, waits `delayMs` before it is forwarded (in order, per direction);
 * - stalled (`freeze()` … `thaw()`): like a switch that drops every packet, connections are
 *   neither refused nor reset: open sockets stay open but nothing is forwarded either way, and new
 *   connections are accepted but hear nothing back. On thaw, what was held is delivered in order
 *   and forwarding resumes, as after a network that comes back.
 */
export class NetworkProxy {
  delayMs = 0;
  private readonly sockets = new Set<Socket>();
  /** Resolves when the stall ends; undefined while the network flows. */
  private stalled?: Promise<void>;
  private endStall?: () => void;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<NetworkProxy> {
    let proxy: NetworkProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
    const address = server.address();
    proxy = new NetworkProxy(server, typeof address === 'object' && address ? address.port : 0);
    return proxy;
  }

  /** Stops forwarding anything, both ways, on every connection (open and new) until `thaw()`. */
  freeze(): void {
    if (this.stalled) return;
    this.stalled = new Promise((resolveStall) => {
      this.endStall = resolveStall;
    });
  }

  /** Ends the stall: held bytes are delivered in order, and forwarding goes on. */
  thaw(): void {
    this.endStall?.();
    this.stalled = undefined;
    this.endStall = undefined;
  }

  get frozen(): boolean {
    return this.stalled !== undefined;
  }

  private accept(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /** Forwards `from` to `to`, each chunk after the delay in force when it arrived and after any stall, keeping their order. */
  private pipe(from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on('data', (chunk) => {
      const delay = this.delayMs;
      chain = chain.then(async () => {
        if (delay > 0) await sleep(delay);
        while (this.stalled) await this.stalled;
        if (!to.destroyed) to.write(chunk);
      });
    });
  }

  async stop(): Promise<void> {
    this.thaw();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolveClose) => this.server.close(() => resolveClose()));
  }
}

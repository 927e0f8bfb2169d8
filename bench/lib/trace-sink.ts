import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OTLP/HTTP endpoint that takes every export (`POST /v1/traces`, any encoding) and throws it
 * away, counting them: the cheapest receiver, so a benchmark measures the service's tracing, not
 * a collector's.
 */
export class TraceSink {
  exports = 0;
  bytes = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<TraceSink> {
    const server = createServer();
    const sink = new TraceSink(server);
    server.on('request', (request, response) => {
      request.on('data', (chunk: Buffer) => {
        sink.bytes += chunk.length;
      });
      request.on('end', () => {
        sink.exports += 1;
        response.writeHead(200).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return sink;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

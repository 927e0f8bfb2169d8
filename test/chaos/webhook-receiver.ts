import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Random } from './random';

/** One delivery the receiver acknowledged (answered 204), in the order they arrived. */
export interface ReceivedDelivery {
  /** `webhook-id`: `msg_<event id>`, the same for every attempt of one event. */
  messageId: string;
  type: string;
  orgId: string;
  /** `data.event_id`: the `organization_events` row, increasing per organization. */
  eventId: number;
  /** The payload's `timestamp` (when the event's transaction began). */
  timestamp: string;
  receivedAt: number;
}

/**
 * The soak's webhook receiver, in the soak's own process on a port of its own: it verifies every
 * request with the Standard Webhooks library and the endpoint's secret (one that does not verify
 * is answered 400 and counted), refuses a seeded fraction on purpose (503, so the worker's retries
 * are exercised), and keeps what it acknowledged, in arrival order.
 */
export class WebhookReceiver {
  secret = '';
  readonly acknowledged: ReceivedDelivery[] = [];
  requests = 0;
  unverified = 0;
  refusedOnPurpose = 0;
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  constructor(
    private readonly random: Random,
    private readonly failureRate: number,
  ) {}

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/orgms`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the sender went away (a killed worker)
    }
    const body = Buffer.concat(chunks).toString('utf8');
    this.requests += 1;
    const headers = req.headers as Record<string, string>;
    let event: { type: string; timestamp: string; data: { event_id: string; organization: { id: string } } };
    try {
      event = new Webhook(this.secret).verify(body, headers) as typeof event;
    } catch {
      this.unverified += 1;
      res.writeHead(400).end();
      return;
    }
    if (this.random.next() < this.failureRate) {
      this.refusedOnPurpose += 1;
      res.writeHead(503).end();
      return;
    }
    this.acknowledged.push({
      messageId: headers['webhook-id'],
      type: event.type,
      orgId: event.data.organization.id,
      eventId: Number(event.data.event_id),
      timestamp: event.timestamp,
      receivedAt,
    });
    res.writeHead(204).end();
  }
}

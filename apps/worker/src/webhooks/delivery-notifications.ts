import type { Logger } from '@orgms/common/logger';
import type { DeliverWebhooksJobData } from '@orgms/common/queues/registry';
import { Client } from 'pg';

/** The channel the control database's trigger notifies for each new delivery (migrations/control/1732740000000-Webhooks.ts). */
const CHANNEL = 'orgms_webhook_deliveries';

const RECONNECT_MS = 1000;

/**
 * Hears each new delivery the moment its transaction commits (LISTEN on the control database)
 * and hands its lane to the queue, so a webhook leaves within milliseconds of its event. A
 * notification missed while this connection is down is not lost: the delivery row is there, and
 * the periodic sweep hands its lane over. Returns the function that stops listening.
 */
export function listenForDeliveries(options: {
  databaseUrl: string;
  onLane: (lane: DeliverWebhooksJobData) => Promise<unknown>;
  logger: Logger;
}): () => Promise<void> {
  const { databaseUrl, onLane, logger } = options;
  let client: Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const connect = async () => {
    if (stopped) return;
    const next = new Client({ connectionString: databaseUrl, application_name: 'orgms-worker-webhooks' });
    client = next;
    const reconnect = () => {
      if (stopped || client !== next) return;
      client = undefined;
      next.end().catch(() => undefined);
      retry = setTimeout(() => void connect(), RECONNECT_MS);
    };
    next.on('error', (error) => {
      logger.warn('webhook notifications: connection lost; the sweep covers the gap', { error: error.message });
      reconnect();
    });
    next.on('end', reconnect);
    next.on('notification', (message) => {
      const [endpointId, orgId] = (message.payload ?? '').split(' ');
      if (!endpointId || !orgId) return;
      onLane({ endpointId, orgId }).catch((error) => logger.warn('webhook notifications: could not queue a lane', { error: (error as Error).message }));
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      logger.warn('webhook notifications: cannot listen yet', { error: (error as Error).message });
      reconnect();
    }
  };
  void connect();

  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}

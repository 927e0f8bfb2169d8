import type { Logger } from '@orgms/common/logger';
import type { OrganizationEvent } from '@orgms/common/organizations/organization-event.entity';
import type { OrganizationStatus } from '@orgms/common/organizations/organization-status';
import type { Request, Response } from 'express';
import type { OrganizationEventsHub } from '../events/organization-events-hub';
import type { OrganizationsService } from '../organizations/organizations.service';

/** The stream ends once the organization reaches one of these. */
const FINAL_STATUSES: readonly OrganizationStatus[] = ['active', 'failed', 'deleted', 'purged'];
/** Keeps proxies from closing an idle stream, re-reads the control database as a safety net, and re-checks the caller. */
const HEARTBEAT_MS = 15000;

interface StatusFrame {
  eventId: string;
  status: OrganizationStatus;
  step: string | null;
  detail: string | null;
  at: string;
}

/** What a status stream reads (the organization and its event history) and listens to. */
export interface StatusStreamSources {
  organizations: Pick<OrganizationsService, 'get' | 'lastEventId' | 'eventsAfter'>;
  events: Pick<OrganizationEventsHub, 'subscribe'>;
  logger: Logger;
  /** Re-checked at every heartbeat: a stream ends once its caller's token is revoked. */
  stillAuthorized: () => Promise<boolean>;
  heartbeatMs?: number;
}

/**
 * `GET /organizations/:id/events`: Server-Sent Events of the organization's status changes,
 * fed by Redis pub/sub (so any replica can serve any client). The first frame is the current
 * status; a client reconnecting with `Last-Event-ID` gets the events it missed from the
 * control database instead. A pub/sub message only says that something happened: the frames
 * themselves are read from the events table after the last one sent, so they are ordered by
 * event id, never repeated and never skipped, even when messages arrive out of order (Redis
 * Cluster publishes through any node) or a quick succession coalesces into one read.
 */
export async function streamOrganizationStatus(sources: StatusStreamSources, req: Request, res: Response, orgId: string): Promise<void> {
  const { organizations, events, logger, stillAuthorized } = sources;
  const org = await organizations.get(orgId); // a 404 problem before the stream starts
  let lastId = BigInt(0);
  let lastStatus: OrganizationStatus = org.status;
  let ended = false;
  let live = false;
  let missedWhileStarting = false;
  let catchingUp: Promise<void> | undefined;
  let catchUpAgain = false;

  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    clearInterval(heartbeat);
    res.end();
  };
  const send = (frame: StatusFrame) => {
    if (ended || BigInt(frame.eventId) <= lastId) return;
    lastId = BigInt(frame.eventId);
    lastStatus = frame.status;
    const data = { id: orgId, status: frame.status, step: frame.step, detail: frame.detail, at: frame.at };
    res.write(`id: ${frame.eventId}\nevent: status\ndata: ${JSON.stringify(data)}\n\n`);
    if (FINAL_STATUSES.includes(frame.status)) end();
  };
  /** Sends every event after the last one sent; one read at a time, and one more if news came meanwhile. */
  const catchUp = (): Promise<void> => {
    if (catchingUp) {
      catchUpAgain = true;
      return catchingUp;
    }
    const run = (async () => {
      try {
        do {
          catchUpAgain = false;
          for (const event of await organizations.eventsAfter(orgId, lastId.toString())) send(fromEvent(event));
        } while (catchUpAgain && !ended);
      } catch (error) {
        logger.warn('status stream could not read events', { orgId, error: (error as Error).message });
      } finally {
        catchingUp = undefined;
      }
    })();
    catchingUp = run;
    return run;
  };
  // Subscribe before reading, so nothing published in between is lost.
  const unsubscribe = events.subscribe(orgId, () => {
    if (live) void catchUp();
    else missedWhileStarting = true;
  });
  const heartbeat = setInterval(() => void recheck(), sources.heartbeatMs ?? HEARTBEAT_MS);
  res.on('close', end);

  res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  res.write('retry: 2000\n\n');

  try {
    const resumeFrom = req.get('Last-Event-ID');
    if (resumeFrom && /^\d{1,18}$/.test(resumeFrom)) {
      lastId = BigInt(resumeFrom);
      for (const event of await organizations.eventsAfter(orgId, resumeFrom)) send(fromEvent(event));
      // Nothing missed and already final: nothing more will come.
      if (FINAL_STATUSES.includes((await organizations.get(orgId)).status)) end();
    } else {
      await sendCurrent();
    }
    live = true;
    if (missedWhileStarting) await catchUp();
  } catch (error) {
    // Headers are sent: the error handler can no longer answer, so log and close the stream.
    logger.warn('status stream failed', { orgId, error: (error as Error).message });
    end();
  }

  async function sendCurrent(): Promise<void> {
    const [eventId, current] = await Promise.all([organizations.lastEventId(orgId), organizations.get(orgId)]);
    send({ eventId, status: current.status, step: current.step, detail: null, at: current.updatedAt.toISOString() });
  }

  /** Heartbeat: the caller still authorized, a comment line, and a fresh read in case a pub/sub message was lost. */
  async function recheck(): Promise<void> {
    if (ended) return;
    // Fail closed: a stream whose caller cannot be checked ends; the client reconnects and is checked anew.
    if (!(await stillAuthorized().catch(() => false))) return end();
    res.write(': keep-alive\n\n');
    const current = await organizations.get(orgId).catch(() => undefined);
    if (current && current.status !== lastStatus) await sendCurrent().catch(() => undefined);
  }
}

function fromEvent(event: OrganizationEvent): StatusFrame {
  return { eventId: event.id, status: event.toStatus as OrganizationStatus, step: event.step, detail: event.detail, at: event.at.toISOString() };
}

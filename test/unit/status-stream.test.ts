import { setTimeout as sleep } from 'node:timers/promises';
import { type StatusStreamSources, streamOrganizationStatus } from '@orgms/api/http/status-stream';
import { createLogger } from '@orgms/common/logger';
import { Organization } from '@orgms/common/organizations/organization.entity';
import { expect } from 'chai';
import type { Request, Response } from 'express';

const ORG_ID = '0b6f0f5e-5f0e-4c71-9a59-2f1b8c8f2a11';

/** Just enough of an Express response to watch what a stream writes and whether it ended. */
function recordingResponse() {
  const written: string[] = [];
  const onClose: (() => void)[] = [];
  let ended = false;
  const res = {
    status: () => res,
    set: () => res,
    flushHeaders: () => undefined,
    on: (event: string, listener: () => void) => {
      if (event === 'close') onClose.push(listener);
      return res;
    },
    write: (chunk: string) => written.push(chunk),
    end: () => {
      ended = true;
    },
  };
  /** The client goes away: what Express reports as the response's `close`. */
  const disconnect = () => {
    for (const listener of onClose) listener();
  };
  return { res: res as unknown as Response, written, ended: () => ended, disconnect };
}

function sources(stillAuthorized: () => Promise<boolean>): StatusStreamSources {
  const pending = Object.assign(new Organization(), { id: ORG_ID, status: 'pending', step: null, updatedAt: new Date() });
  const logger = createLogger('test', 'error');
  logger.silent = true;
  return {
    organizations: { get: async () => pending, lastEventId: async () => '1', eventsAfter: async () => [] },
    events: { subscribe: () => () => undefined },
    logger,
    stillAuthorized,
    heartbeatMs: 20,
  };
}

describe('Status stream and revoked callers', () => {
  const request = { get: () => undefined } as unknown as Request;

  it('when the caller stays authorized, then the stream of a pending organization stays open with keep-alives', async () => {
    const stream = recordingResponse();
    await streamOrganizationStatus(
      sources(async () => true),
      request,
      stream.res,
      ORG_ID,
    );
    await sleep(100);
    expect(stream.ended()).to.equal(false);
    expect(stream.written.join('')).to.include('"status":"pending"').and.include(': keep-alive');
    stream.disconnect();
    expect(stream.ended()).to.equal(true);
  });

  it("when the caller's token is revoked (or cannot be checked), then the stream ends at the next heartbeat", async () => {
    for (const check of [async () => false, async () => Promise.reject(new Error('database down'))]) {
      const stream = recordingResponse();
      await streamOrganizationStatus(sources(check), request, stream.res, ORG_ID);
      await sleep(100);
      expect(stream.ended()).to.equal(true);
    }
  });
});

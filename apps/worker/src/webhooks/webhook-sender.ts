import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Resolve, resolveWebhookTarget, type WebhookTarget } from '@orgms/common/webhooks/webhook-targets';

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
  /** The host name resolver (node's by default; tests give their own to play DNS). */
  resolve?: Resolve;
}

export interface SendOutcome {
  /** The endpoint answered 2xx. */
  ok: boolean;
  responseStatus: number | null;
  latencyMs: number;
  error: string | null;
}

/** Connects to the address that was checked, whatever the name resolves to by now. */
function pinnedLookup(target: WebhookTarget): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

/**
 * One attempt: resolves and checks the URL's host again (the registration check is not enough,
 * DNS can change), then POSTs to the checked address only (TLS still verifies the certificate
 * against the host name). Success is a 2xx; redirects are not followed. The whole attempt,
 * connection to the last byte of the answer, has `timeoutMs`. Never throws.
 */
export async function sendWebhook(request: WebhookRequest): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  let target: WebhookTarget;
  try {
    target = await resolveWebhookTarget(request.url, { allowPrivate: request.allowPrivate, resolve: request.resolve });
  } catch (error) {
    // A URL that is no longer allowed (or no longer parses) is a failed attempt like any other: retried, then given up.
    return { ok: false, responseStatus: null, latencyMs: elapsed(), error: `refused: ${(error as Error).message}` };
  }
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<SendOutcome, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, latencyMs: elapsed() });
    };
    const req = client.request(
      target.url,
      {
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        lookup: pinnedLookup(target),
        // A connection of our own per attempt: a pooled socket could be one opened to an address checked earlier.
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.on('error', (error) => finish({ ok: false, responseStatus: status, error: error.message }));
        // The answer's body is not used, only read to its end (within the time limit).
        const ok = status >= 200 && status < 300;
        res.on('end', () => finish({ ok, responseStatus: status, error: ok ? null : `HTTP ${status}` }));
        res.resume();
      },
    );
    const timer = setTimeout(() => {
      finish({ ok: false, responseStatus: null, error: `no complete answer within ${request.timeoutMs} ms` });
      req.destroy();
    }, request.timeoutMs);
    req.on('error', (error) => finish({ ok: false, responseStatus: null, error: error.message }));
    req.end(request.body);
  });
}

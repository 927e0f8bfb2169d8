import { createHmac, hkdfSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, UnprocessableEntityError } from '@orgms/common/errors';
import type { IdempotencyKeyStore } from '@orgms/common/organizations/idempotency-key-store';

/** Who sent the key and the key: keys of different callers never meet. */
export interface IdempotencyKey {
  scope: string;
  key: string;
}

/** How long a request waits for a concurrent one with the same key to finish. */
const WAIT_FOR_FIRST_MS = 5000;
const POLL_MS = 50;

/**
 * `Idempotency-Key` for creates: the first request with a key does the work and records its
 * result; the same key with the same request answers that result (its current state), with
 * another request a 422, and concurrent requests with one key wait for the first. The request is
 * remembered as a keyed hash (HMAC with a key derived from SECRETS_KEY), never in clear: bodies
 * carry passwords.
 */
export class IdempotentRequests {
  private readonly hashKey: Buffer;

  constructor(
    private readonly keys: Pick<IdempotencyKeyStore, 'claim' | 'complete' | 'release'>,
    secretsKey: Buffer,
  ) {
    this.hashKey = Buffer.from(hkdfSync('sha256', secretsKey, Buffer.alloc(0), 'orgms idempotency request hash', 32));
  }

  async once<T extends { id: string }>(idempotency: IdempotencyKey, request: unknown, work: () => Promise<T>, replay: (id: string) => Promise<T>): Promise<T> {
    const { scope, key } = idempotency;
    const hash = createHmac('sha256', this.hashKey).update(canonicalJson(request)).digest('hex');
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      const claim = await this.keys.claim(scope, key, hash);
      if (claim.claimed) {
        try {
          const result = await work();
          await this.keys.complete(scope, key, result.id);
          return result;
        } catch (error) {
          await this.keys.release(scope, key); // nothing was made: the same key may try again
          throw error;
        }
      }
      if (claim.requestHash !== hash) throw new UnprocessableEntityError('This Idempotency-Key was already used with a different request.');
      if (claim.organizationId) return replay(claim.organizationId);
      if (Date.now() >= deadline) throw new ConflictError('A request with this Idempotency-Key is still being processed; send it again shortly.');
      await sleep(POLL_MS);
    }
  }
}

/** JSON with object keys sorted, so two spellings of one request hash alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

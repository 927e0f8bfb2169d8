/**
 * Every id we issue is a uuid in this one spelling (lower-case hex, 8-4-4-4-12). Ids that enter
 * from outside (paths, bodies, tokens, job data) must match it exactly: PostgreSQL would also
 * take braces, colons or upper case, and two spellings of one id would be two rate-limit keys
 * and two pub/sub channels.
 */
export const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isCanonicalUuid(value: unknown): value is string {
  return typeof value === 'string' && CANONICAL_UUID.test(value);
}

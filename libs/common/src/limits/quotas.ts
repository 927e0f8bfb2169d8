import type { Quotas } from '../config';
import { QuotaExceededError } from '../errors';

/** A quota as answers name it. */
export type QuotaName = 'users' | 'database_bytes';

/** Which quota an organization is past (or would pass), its limit and its usage. */
export interface QuotaExcess {
  quota: QuotaName;
  limit: number;
  usage: number;
}

/** What is known of an organization's usage: its users now, its database at the last sample (null before one). */
export interface QuotaUsage {
  users: number;
  databaseBytes: number | null;
}

/** Whether the last sample of its database is over the database quota (the sweep's mark, and what refuses growth). */
export function databaseOverQuota(quotas: Quotas, databaseBytes: number | null): QuotaExcess | undefined {
  if (databaseBytes === null || databaseBytes <= quotas.databaseBytes) return undefined;
  return { quota: 'database_bytes', limit: quotas.databaseBytes, usage: databaseBytes };
}

/**
 * The quota that refuses one more user, if any: a database over its quota refuses anything that
 * grows it, and the users quota refuses the user that would pass it (at the limit already).
 */
export function quotaRefusingNewUser(quotas: Quotas, usage: QuotaUsage): QuotaExcess | undefined {
  const database = databaseOverQuota(quotas, usage.databaseBytes);
  if (database) return database;
  if (usage.users >= quotas.users) return { quota: 'users', limit: quotas.users, usage: usage.users };
  return undefined;
}

/** Whether anything is past its quota now (shown by GET …/limits): more users than allowed, or a database over. */
export function isOverQuota(quotas: Quotas, usage: QuotaUsage): boolean {
  return usage.users > quotas.users || databaseOverQuota(quotas, usage.databaseBytes) !== undefined;
}

const QUOTA_WORDS: Record<QuotaName, (excess: QuotaExcess) => string> = {
  users: ({ limit, usage }) => `This organization has ${usage} users and its quota is ${limit}; remove one, or ask a platform admin for a higher quota.`,
  database_bytes: ({ limit, usage }) =>
    `This organization's database is ${usage} bytes, over its quota of ${limit}; reads keep working, but nothing may grow it until it shrinks or its quota is raised.`,
};

/** Throws the 403 `quota-exceeded` problem of `excess`, if any. */
export function refuseOverQuota(excess: QuotaExcess | undefined): void {
  if (excess) throw new QuotaExceededError(QUOTA_WORDS[excess.quota](excess), excess);
}

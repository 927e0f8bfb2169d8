import type { LimitOverrides, OrganizationLimits, RequestClass } from '@orgms/common/limits/organization-limits';
import type { LimitChanges, OrganizationUsage } from '@orgms/common/limits/organization-limits-store';
import type { OrganizationLimitsBody } from './limits.responses';
import type { LimitChangesBody } from './limits.schemas';

/** What GET …/limits shows, in domain terms. */
export interface LimitsView {
  orgId: string;
  windowMs: number;
  limits: OrganizationLimits;
  overrides: LimitOverrides;
  /** Requests counted in the current window, by class; a class missing is not known. */
  requests: Partial<Record<RequestClass, number>>;
  /** Its users now; null while its database does not serve. */
  users: number | null;
  usage: OrganizationUsage;
  overQuota: boolean;
}

const DATABASE_NAMES = {
  connectionLimit: 'connection_limit',
  statementTimeoutMs: 'statement_timeout_ms',
  idleInTransactionTimeoutMs: 'idle_in_transaction_timeout_ms',
  tempFileLimitKb: 'temp_file_limit_kb',
} as const;
const QUOTA_NAMES = { users: 'users', databaseBytes: 'database_bytes' } as const;

/** `{ domainName: value }` → `{ api_name: value }` by `names`, keeping only the members present. */
function renamed<D extends string, A extends string, V>(values: Partial<Record<D, V>> | undefined, names: Record<D, A>): Partial<Record<A, V>> | undefined {
  if (!values) return undefined;
  const entries = (Object.entries(names) as [D, A][]).filter(([domain]) => values[domain] !== undefined).map(([domain, api]) => [api, values[domain]]);
  return Object.fromEntries(entries) as Partial<Record<A, V>>;
}

function inverse<D extends string, A extends string>(names: Record<D, A>): Record<A, D> {
  return Object.fromEntries(Object.entries(names).map(([domain, api]) => [api, domain])) as Record<A, D>;
}

/** A PATCH body in domain terms (null: back to the default). */
export function limitChangesOf(body: LimitChangesBody): LimitChanges {
  return {
    requests: body.requests,
    database: renamed(body.database, inverse(DATABASE_NAMES)),
    quotas: renamed(body.quotas, inverse(QUOTA_NAMES)),
  };
}

export function presentLimits(view: LimitsView): OrganizationLimitsBody {
  const { limits, overrides, usage } = view;
  const requestUsage = (name: RequestClass) => ({ limit: limits.requests[name], used: view.requests[name] ?? null });
  return {
    organization_id: view.orgId,
    window_seconds: Math.round(view.windowMs / 1000),
    requests: { reads: requestUsage('reads'), writes: requestUsage('writes'), expensive: requestUsage('expensive') },
    database: renamed(limits.database, DATABASE_NAMES) as OrganizationLimitsBody['database'],
    quotas: {
      users: { limit: limits.quotas.users, usage: view.users },
      database_bytes: { limit: limits.quotas.databaseBytes, usage: usage.databaseBytes, sampled_at: usage.databaseBytesSampledAt?.toISOString() ?? null },
    },
    over_quota: view.overQuota,
    over_quota_since: usage.overQuotaSince?.toISOString() ?? null,
    overrides: {
      ...(overrides.requests ? { requests: overrides.requests } : {}),
      ...(overrides.database ? { database: renamed(overrides.database, DATABASE_NAMES) } : {}),
      ...(overrides.quotas ? { quotas: renamed(overrides.quotas, QUOTA_NAMES) } : {}),
    },
  };
}

import type { DatabaseLimits, LimitsConfig, Quotas, RequestRates } from '../config';

/** An organization's limits as they apply: the configured defaults, with its own overrides on top. */
export interface OrganizationLimits {
  requests: RequestRates;
  database: DatabaseLimits;
  quotas: Quotas;
}

/**
 * What a platform admin set for one organization; a missing (or null) member means "the default".
 * Stored by OrganizationLimitsStore (`organization_limits`), one row per organization that has any.
 */
export interface LimitOverrides {
  requests?: Partial<RequestRates>;
  database?: Partial<DatabaseLimits>;
  quotas?: Partial<Quotas>;
}

/** The request-rate classes, in the order answers list them. */
export const REQUEST_CLASSES = ['reads', 'writes', 'expensive'] as const satisfies readonly (keyof RequestRates)[];
export type RequestClass = (typeof REQUEST_CLASSES)[number];

/** The defaults of every organization, from the configuration. */
export function defaultLimits(config: Pick<LimitsConfig, 'organization' | 'database' | 'quotas'>): OrganizationLimits {
  return { requests: { ...config.organization }, database: { ...config.database }, quotas: { ...config.quotas } };
}

/** `defaults` with each override that is set (null and undefined leave the default). */
export function effectiveLimits(defaults: OrganizationLimits, overrides: LimitOverrides = {}): OrganizationLimits {
  return {
    requests: withSet(defaults.requests, overrides.requests),
    database: withSet(defaults.database, overrides.database),
    quotas: withSet(defaults.quotas, overrides.quotas),
  };
}

function withSet<T extends object>(base: T, changes: Partial<T> | undefined): T {
  const set = Object.entries(changes ?? {}).filter(([, value]) => value !== undefined && value !== null);
  return { ...base, ...Object.fromEntries(set) };
}

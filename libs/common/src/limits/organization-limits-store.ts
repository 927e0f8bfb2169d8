import type { DataSource } from 'typeorm';
import { type Clock, systemClock } from '../clock';
import type { DatabaseLimits, Quotas, RequestRates } from '../config';
import type { OrganizationEventPublisher } from '../events/organization-events';
import type { LimitOverrides } from './organization-limits';

/** A change of overrides: a member set to null goes back to the default, a missing one stays as it is. */
export interface LimitChanges {
  requests?: { [K in keyof RequestRates]?: number | null };
  database?: { [K in keyof DatabaseLimits]?: number | null };
  quotas?: { [K in keyof Quotas]?: number | null };
}

/** What the quota sweep last saw of an organization. */
export interface OrganizationUsage {
  /** The last sample of its database's size; null before the first. */
  databaseBytes: number | null;
  databaseBytesSampledAt: Date | null;
  /** Since when the sweep has found it over a quota; null when it is not. */
  overQuotaSince: Date | null;
}

/** An organization's row: its overrides and its usage. */
export interface OrganizationLimitsRow {
  overrides: LimitOverrides;
  usage: OrganizationUsage;
}

/** The column of each overridable limit; the names are fixed here, never taken from a request. */
const OVERRIDE_COLUMNS = {
  requests: { reads: 'reads_per_window', writes: 'writes_per_window', expensive: 'expensive_per_window' },
  database: {
    connectionLimit: 'db_connection_limit',
    statementTimeoutMs: 'db_statement_timeout_ms',
    idleInTransactionTimeoutMs: 'db_idle_in_transaction_timeout_ms',
    tempFileLimitKb: 'db_temp_file_limit_kb',
  },
  quotas: { users: 'quota_users', databaseBytes: 'quota_database_bytes' },
} as const;

type Group = keyof typeof OVERRIDE_COLUMNS;
const GROUPS = Object.keys(OVERRIDE_COLUMNS) as Group[];

type Row = Record<string, string | number | Date | null>;

/** bigint columns come back from pg as text. */
const asNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

function overridesOfRow(row: Row | undefined): LimitOverrides {
  const overrides: Record<string, Record<string, number>> = {};
  for (const group of GROUPS) {
    for (const [name, column] of Object.entries(OVERRIDE_COLUMNS[group])) {
      const value = asNumber(row?.[column]);
      if (value !== null) overrides[group] = { ...overrides[group], [name]: value };
    }
  }
  return overrides as LimitOverrides;
}

function usageOfRow(row: Row | undefined): OrganizationUsage {
  return {
    databaseBytes: asNumber(row?.database_bytes),
    databaseBytesSampledAt: (row?.database_bytes_sampled_at as Date | null | undefined) ?? null,
    overQuotaSince: (row?.over_quota_since as Date | null | undefined) ?? null,
  };
}

/**
 * The one owner of `organization_limits`: each organization's overrides of the configured limits
 * (set by platform admins) and the quota sweep's samples of its usage. An organization without a
 * row has the defaults and no sample. Every change is published as `changed`, so the API
 * replicas drop what they cached of the organization's limits.
 */
export class OrganizationLimitsStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: { clock?: Clock; events?: OrganizationEventPublisher } = {},
  ) {}

  async overridesOf(orgId: string): Promise<LimitOverrides> {
    return (await this.rowOf(orgId)).overrides;
  }

  async rowOf(orgId: string): Promise<OrganizationLimitsRow> {
    const [row]: Row[] = await this.dataSource.query(`SELECT * FROM organization_limits WHERE org_id = $1`, [orgId]);
    return { overrides: overridesOfRow(row), usage: usageOfRow(row) };
  }

  /** Applies `changes` (null: back to the default) and answers the overrides as they are now. */
  async setOverrides(orgId: string, changes: LimitChanges): Promise<LimitOverrides> {
    const assignments = GROUPS.flatMap((group) =>
      Object.entries(changes[group] ?? {})
        .filter(([, value]) => value !== undefined)
        .map(([name, value]) => [(OVERRIDE_COLUMNS[group] as Record<string, string>)[name], value] as const),
    );
    const columns = assignments.map(([column]) => column);
    const values = assignments.map(([, value]) => value);
    const placeholders = values.map((_, i) => `$${i + 3}`);
    const updates = [...columns.map((column) => `${column} = EXCLUDED.${column}`), 'updated_at = EXCLUDED.updated_at'];
    await this.dataSource.query(
      `INSERT INTO organization_limits (org_id, updated_at${columns.map((c) => `, ${c}`).join('')}) VALUES ($1, $2${placeholders.map((p) => `, ${p}`).join('')})
       ON CONFLICT (org_id) DO UPDATE SET ${updates.join(', ')}`,
      [orgId, this.now(), ...values],
    );
    this.options.events?.publish({ type: 'changed', orgId });
    return this.overridesOf(orgId);
  }

  /** The quota overrides and the over-quota mark of every organization that has a row (the quota sweep's input). */
  async quotaStates(): Promise<Map<string, { quotas: Partial<Quotas>; overQuotaSince: Date | null }>> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM organization_limits`);
    return new Map(rows.map((row) => [row.org_id as string, { quotas: overridesOfRow(row).quotas ?? {}, overQuotaSince: usageOfRow(row).overQuotaSince }]));
  }

  /** Records the sizes sampled at `at`, one statement for the whole sample. */
  async recordDatabaseSizes(sizes: Map<string, number>, at: Date): Promise<void> {
    if (sizes.size === 0) return;
    await this.dataSource.query(
      `INSERT INTO organization_limits (org_id, database_bytes, database_bytes_sampled_at, updated_at)
       SELECT org_id, bytes, $3, $3 FROM unnest($1::uuid[], $2::bigint[]) AS s (org_id, bytes)
       ON CONFLICT (org_id) DO UPDATE SET database_bytes = EXCLUDED.database_bytes, database_bytes_sampled_at = EXCLUDED.database_bytes_sampled_at`,
      [[...sizes.keys()], [...sizes.values()], at],
    );
  }

  /**
   * Marks the organization over quota (true) or not (false). Answers whether the mark changed:
   * only the first sweep that finds it over announces it.
   */
  async markOverQuota(orgId: string, over: boolean): Promise<boolean> {
    const rows: unknown[] = over
      ? await this.dataSource.query(`UPDATE organization_limits SET over_quota_since = $2 WHERE org_id = $1 AND over_quota_since IS NULL RETURNING org_id`, [
          orgId,
          this.now(),
        ])
      : await this.dataSource.query(
          `UPDATE organization_limits SET over_quota_since = NULL WHERE org_id = $1 AND over_quota_since IS NOT NULL RETURNING org_id`,
          [orgId],
        );
    const changed = rows.length > 0;
    if (changed) this.options.events?.publish({ type: 'changed', orgId });
    return changed;
  }

  async countOverQuota(): Promise<number> {
    const [row]: { count: number }[] = await this.dataSource.query(`SELECT count(*)::int AS count FROM organization_limits WHERE over_quota_since IS NOT NULL`);
    return row.count;
  }

  private now(): Date {
    return (this.options.clock ?? systemClock).now();
  }
}

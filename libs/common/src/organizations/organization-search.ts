import { organizationNameKey } from './organization-names';
import type { OrganizationStatus } from './organization-status';

/**
 * The orders GET /organizations can list in: by creation or by name, each either way (`-` first:
 * descending). Every order ends with the id, so rows with equal keys keep one order and a page
 * never repeats or skips one.
 */
export const ORGANIZATION_SORTS = ['-created_at', 'created_at', 'name', '-name'] as const;
export type OrganizationSort = (typeof ORGANIZATION_SORTS)[number];
export const DEFAULT_ORGANIZATION_SORT: OrganizationSort = '-created_at';

/**
 * Each sort's key. By name means by name key (organization-names.ts: case folded, look-alike
 * skeleton), compared byte-wise (COLLATE "C", as its index is built), so the order does not
 * depend on the database's collation. A created_at key is an ISO timestamp with milliseconds.
 */
const SORT_KEYS: Record<OrganizationSort, { expression: string; type: 'timestamptz' | 'text'; descending: boolean }> = {
  '-created_at': { expression: 'created_at', type: 'timestamptz', descending: true },
  created_at: { expression: 'created_at', type: 'timestamptz', descending: false },
  name: { expression: 'name_key COLLATE "C"', type: 'text', descending: false },
  '-name': { expression: 'name_key COLLATE "C"', type: 'text', descending: true },
};

/** Whether a sort's key is an instant (creation) rather than a name key: what its cursor must hold. */
export function sortsByInstant(sort: OrganizationSort): boolean {
  return SORT_KEYS[sort].type === 'timestamptz';
}

/** Where a page of a sorted list starts: the sort key and id of the previous page's last row. */
export interface SortPosition {
  key: string;
  id: string;
}

/** What GET /organizations can ask for; every filter given must hold (AND). */
export interface OrganizationSearch {
  limit: number;
  sort: OrganizationSort;
  after?: SortPosition;
  status?: OrganizationStatus;
  databaseServerId?: string;
  /** Names that start, as they look, with this text: compared by name key. */
  namePrefix?: string;
  externalId?: string;
  /** Created at or after this instant. */
  createdAfter?: Date;
  /** Created before this instant (so consecutive windows never share a row). */
  createdBefore?: Date;
}

/** `text` as a LIKE pattern that matches only itself (backslash is LIKE's default escape). */
function literalLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/**
 * The WHERE, ORDER BY and LIMIT of one page of the search, with its parameters: the store
 * runs them as its one SELECT. Every value is a parameter; the SQL is made of constants only.
 */
export function organizationSearchClauses(search: OrganizationSearch): { where: string; orderBy: string; limit: string; params: unknown[] } {
  const params: unknown[] = [];
  const where: string[] = [];
  const condition = (sql: (n: number) => string, ...values: unknown[]) => {
    where.push(sql(params.length + 1));
    params.push(...values);
  };
  const { expression, type, descending } = SORT_KEYS[search.sort];
  if (search.status) condition((n) => `status = $${n}`, search.status);
  if (search.databaseServerId) condition((n) => `database_server_id = $${n}`, search.databaseServerId);
  if (search.externalId) condition((n) => `external_id = $${n}`, search.externalId);
  if (search.namePrefix !== undefined) condition((n) => `name_key COLLATE "C" LIKE $${n}`, `${literalLike(organizationNameKey(search.namePrefix))}%`);
  if (search.createdAfter) condition((n) => `created_at >= $${n}`, search.createdAfter);
  if (search.createdBefore) condition((n) => `created_at < $${n}`, search.createdBefore);
  if (search.after) condition((n) => `(${expression}, id) ${descending ? '<' : '>'} ($${n}::${type}, $${n + 1}::uuid)`, search.after.key, search.after.id);
  const direction = descending ? 'DESC' : 'ASC';
  params.push(search.limit + 1);
  return {
    where: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '',
    orderBy: `ORDER BY ${expression} ${direction}, id ${direction}`,
    limit: `LIMIT $${params.length}`,
    params,
  };
}

/**
 * The progress (0–1) of a tracked run over items (fleet migrations, drains). Nothing is planned
 * yet while it is queued: 0 then rather than a misleading 100%.
 */
export function runProgress(totals: { total: number; pending: number }, status: string): number {
  const { total, pending } = totals;
  return total === 0 ? (status === 'completed' ? 1 : 0) : Number(((total - pending) / total).toFixed(4));
}

/** A stored timestamp as answers show it (null stays null). */
export function isoOrNull(at: Date | string | null): string | null {
  return at ? new Date(at).toISOString() : null;
}

/** A stored timestamp as answers show it (null stays null). */
export function isoOrNull(at: Date | string | null): string | null {
  return at ? new Date(at).toISOString() : null;
}

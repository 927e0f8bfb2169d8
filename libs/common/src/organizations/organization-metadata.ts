import { ValidationError } from '../errors';

/**
 * An organization's `metadata`: a small map of strings that billing or CRM systems keep on it
 * (plan, account manager, region…). Small on purpose: it is carried by every representation and
 * every webhook, so its bounds are bounds on those.
 */
export type OrganizationMetadata = Record<string, string>;

/** Changes to the map as PATCH sends them (JSON Merge Patch): a string sets a key, null removes it. */
export type OrganizationMetadataChanges = Record<string, string | null>;

export const METADATA_LIMITS = {
  /** Keys in the map. */
  keys: 20,
  /** Characters of a key (letters, digits, `_ . : -`). */
  keyLength: 40,
  /** Characters of a value. */
  valueLength: 500,
  /** Bytes of the whole map as JSON in UTF-8. */
  totalBytes: 4096,
} as const;

/** A metadata key: 1 to `keyLength` of the same safe characters as an external id. */
export const METADATA_KEY = new RegExp(`^[A-Za-z0-9_.:-]{1,${METADATA_LIMITS.keyLength}}$`);

/** The map's size as the limit counts it: its JSON in UTF-8. */
export function metadataBytes(metadata: OrganizationMetadata): number {
  return Buffer.byteLength(JSON.stringify(metadata), 'utf8');
}

/**
 * `current` with `changes` merged in (null removes a key), or a ValidationError (400) when the
 * result would be over the map's limits; a single change is checked by the request's schema, the
 * whole map only here, where the current one is known (read under the row lock).
 */
export function mergedMetadata(current: OrganizationMetadata, changes: OrganizationMetadataChanges): OrganizationMetadata {
  const merged: OrganizationMetadata = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  const count = Object.keys(merged).length;
  if (count > METADATA_LIMITS.keys)
    throw new ValidationError(`metadata would have ${count} keys; at most ${METADATA_LIMITS.keys} are allowed.`, [
      { field: 'metadata', message: `at most ${METADATA_LIMITS.keys} keys` },
    ]);
  const bytes = metadataBytes(merged);
  if (bytes > METADATA_LIMITS.totalBytes)
    throw new ValidationError(`metadata would take ${bytes} bytes as JSON; at most ${METADATA_LIMITS.totalBytes} are allowed.`, [
      { field: 'metadata', message: `at most ${METADATA_LIMITS.totalBytes} bytes as JSON` },
    ]);
  return merged;
}

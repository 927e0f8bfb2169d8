import type { Client } from 'pg';
import type { DumpManifest } from './organization-dump-store';

/**
 * The rows of every table of the database `client` is connected to (`schema.table` → rows), in
 * the client's current snapshot: a dump's manifest, and what a restore of it must hold again.
 */
export async function countTableRows(client: Client): Promise<DumpManifest> {
  const { rows: tables } = await client.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY 1, 2`,
  );
  const counts: DumpManifest = {};
  for (const { schema, name } of tables) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}`);
    counts[`${schema}.${name}`] = Number(rows[0].n);
  }
  return counts;
}

/** Where `restored` differs from `manifest`: one line per table missing, extra or with other rows. */
export function manifestDifferences(manifest: DumpManifest, restored: DumpManifest): string[] {
  const tables = [...new Set([...Object.keys(manifest), ...Object.keys(restored)])].sort();
  return tables
    .filter((table) => manifest[table] !== restored[table])
    .map((table) => `${table}: ${manifest[table] ?? 'absent'} in the manifest, ${restored[table] ?? 'absent'} restored`);
}

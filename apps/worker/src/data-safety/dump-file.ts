import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type FileDigest, hashFile } from '@orgms/common/data-safety/file-hash';
import type { DumpFileRecord, DumpManifest } from '@orgms/common/data-safety/organization-dump-store';
import { redactPasswords, runPgRestore, spawnPgDump } from '@orgms/common/data-safety/pg-dump';
import { countTableRows } from '@orgms/common/data-safety/table-rows';
import { Client } from 'pg';
import { JobFailure } from '../job-failure';

/** How much of pg_dump's (or pg_restore's) error output reaches an error message. */
const MAX_TOOL_ERROR = 500;

/**
 * Writes `pg_dump -Fc` of `databaseUrl` to `dir/fileName` with its manifest: the rows of every
 * table are counted in a REPEATABLE READ transaction whose exported snapshot pg_dump then dumps,
 * so the counts are exactly what the file holds, however the organization writes meanwhile. The
 * file is written under a temporary name of its own first (two runs never write the same file),
 * hashed and counted as it streams, flushed to disk, then renamed into place, so a reader never
 * sees half a file. Any failure (pg_dump's, or the disk's: a full disk is ENOSPC) removes the
 * temporary file and throws.
 */
export async function writeDump(databaseUrl: string, dir: string, fileName: string): Promise<DumpFileRecord> {
  const client = new Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
    const manifest = await countTableRows(client);
    // The snapshot lives as long as this transaction: it ends only once pg_dump has finished.
    const file = await dumpToFile(databaseUrl, dir, fileName, rows[0].snapshot);
    await client.query('COMMIT');
    return { fileName, ...file, manifest };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dumpToFile(databaseUrl: string, dir: string, fileName: string, snapshot: string): Promise<FileDigest> {
  await mkdir(dir, { recursive: true });
  const partial = join(dir, `.${fileName}.${randomBytes(6).toString('hex')}.partial`);
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      done(null, chunk);
    },
  });
  const dump = spawnPgDump(databaseUrl, snapshot);
  try {
    const [written, code] = await Promise.allSettled([pipeline(dump.stdout, measure, createWriteStream(partial, { mode: 0o600 })), dump.exited]);
    if (written.status === 'rejected') throw written.reason;
    if (code.status === 'fulfilled' && code.value !== 0) {
      throw new JobFailure(`pg_dump failed (exit ${code.value}): ${redactPasswords(dump.errors(), [databaseUrl], MAX_TOOL_ERROR)}`, { permanent: false });
    }
    if ((await stat(partial)).size !== sizeBytes) throw new JobFailure('the dump file is not the size that was written', { permanent: false });
    // On disk before it is renamed and recorded: a crash right after must not leave a recorded, empty file.
    const handle = await open(partial, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, join(dir, fileName));
    return { sizeBytes, sha256: hash.digest('hex') };
  } finally {
    await rm(partial, { force: true });
  }
}

/**
 * A dump file is verified when pg_restore can read its table of contents (with the data of at
 * least one table in it, unless its manifest says the dumped database had none: one that
 * provisioning created but never got to migrate) and the file on disk is, byte for byte, what
 * was written (size and SHA-256). A file recorded before manifests existed is taken to hold tables.
 */
export async function verifyDumpFile(path: string, recorded: FileDigest & { manifest?: DumpManifest | null }): Promise<void> {
  const listed = await runPgRestore(['--list', path]);
  if (listed.code !== 0) {
    throw new JobFailure(`the file cannot be read back (pg_restore --list exit ${listed.code}): ${redactPasswords(listed.errors, [], MAX_TOOL_ERROR)}`, {
      permanent: false,
    });
  }
  const tableData = !recorded.manifest || Object.keys(recorded.manifest).length > 0;
  if (tableData && !listed.stdout.includes('TABLE DATA')) throw new JobFailure('the file holds no table data', { permanent: false });
  const onDisk = await hashFile(path);
  if (onDisk.sha256 !== recorded.sha256 || onDisk.sizeBytes !== recorded.sizeBytes) {
    throw new JobFailure('the file on disk is not what was written (size or SHA-256 differ)', { permanent: false });
  }
}

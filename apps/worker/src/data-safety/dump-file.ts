import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type FileDigest, hashFile } from '@orgms/common/data-safety/file-hash';
import { redactPasswords, runPgRestore, spawnPgDump } from '@orgms/common/data-safety/pg-dump';
import { Client } from 'pg';
import { JobFailure } from '../job-failure';

/** How much of pg_dump's (or pg_restore's) error output reaches an error message. */
const MAX_TOOL_ERROR = 500;

/** The size and SHA-256 of a dump file, computed as its bytes were written. */
export type DumpFile = FileDigest;

/**
 * Writes `pg_dump -Fc` of `databaseUrl` to `dir/fileName`: under a temporary name of its own
 * first (two runs never write the same file), hashed and counted as it streams, flushed to disk,
 * then renamed into place, so a reader never sees half a file. Any failure (pg_dump's, or the
 * disk's: a full disk is ENOSPC) removes the temporary file and throws.
 */
export async function dumpToFile(databaseUrl: string, dir: string, fileName: string): Promise<DumpFile> {
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
  const dump = spawnPgDump(databaseUrl);
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
 * How many tables the database holds. One that provisioning created but never got to migrate
 * (deleted meanwhile) has none, and its faithful dump then holds no table data.
 */
export async function tableCount(databaseUrl: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
    );
    return rows[0].n;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A dump file is verified when pg_restore can read its table of contents (with the data of at
 * least one table in it, unless `tableData` is false: the dumped database had no table) and the
 * file on disk is, byte for byte, what was written (size and SHA-256).
 */
export async function verifyDumpFile(path: string, recorded: DumpFile, options: { tableData?: boolean } = {}): Promise<void> {
  const listed = await runPgRestore(['--list', path]);
  if (listed.code !== 0) {
    throw new JobFailure(`the file cannot be read back (pg_restore --list exit ${listed.code}): ${redactPasswords(listed.errors, [], MAX_TOOL_ERROR)}`, {
      permanent: false,
    });
  }
  if ((options.tableData ?? true) && !listed.stdout.includes('TABLE DATA')) throw new JobFailure('the file holds no table data', { permanent: false });
  const onDisk = await hashFile(path);
  if (onDisk.sha256 !== recorded.sha256 || onDisk.sizeBytes !== recorded.sizeBytes) {
    throw new JobFailure('the file on disk is not what was written (size or SHA-256 differ)', { permanent: false });
  }
}

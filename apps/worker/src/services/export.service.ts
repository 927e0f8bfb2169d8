import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OrganizationExportStore } from '@orgms/common/control-plane/organization-export-store';
import type { OrganizationStore } from '@orgms/common/control-plane/organization-store';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { Logger } from '@orgms/common/logger';
import { redactPasswords, spawnPgDump } from '@orgms/common/process/pg-dump';
import { JobFailure, jobFailureOf } from '../job-failure';
import type { OrganizationServers } from '../tenancy/organization-servers';

export interface ExportOptions {
  requestId: string;
  /** When true a failure is final: the export becomes `failed` with the reason. */
  isLastAttempt: boolean;
}

export interface ExportDeps {
  store: Pick<OrganizationStore, 'get'>;
  exports: OrganizationExportStore;
  servers: OrganizationServers;
  logger: Logger;
  /** EXPORT_DIR (absolute) and EXPORT_TTL_MS. */
  dir: string;
  ttlMs: number;
}

export type ExportOutcome = 'exported' | 'skipped';

/** How much of pg_dump's error output reaches the export's `error`. */
const MAX_TOOL_ERROR = 500;

/** The file of an export: made of our own ids only, never of a name a user chose. */
export function exportFileName(orgId: string, exportId: string): string {
  return `${orgId}-${exportId}.dump`;
}

/**
 * Writes `pg_dump -Fc` of an organization's database (on its server, with the server's admin URL)
 * into EXPORT_DIR: to a temporary name first, hashed (SHA-256) and counted as it streams, then
 * renamed into place, so a reader never sees half a file. A re-run rewrites the file and records
 * it again; an export that failed or expired is left alone.
 */
export class ExportService {
  constructor(private readonly deps: ExportDeps) {}

  async export(orgId: string, exportId: string, options: ExportOptions): Promise<ExportOutcome> {
    const { exports, logger } = this.deps;
    const current = await exports.get(orgId, exportId).catch(() => undefined);
    if (!current || current.status === 'failed' || current.status === 'expired') {
      logger.info('nothing to export', { exportId, status: current?.status ?? null });
      return 'skipped';
    }
    await exports.start(orgId, exportId);
    const started = Date.now();
    try {
      const file = await this.write(orgId, exportId);
      await exports.finish(orgId, exportId, file, this.deps.ttlMs);
      logger.info('organization exported', { exportId, bytes: file.sizeBytes, ms: Date.now() - started });
      return 'exported';
    } catch (cause) {
      const failure = jobFailureOf('export', cause);
      const final = failure.permanent || options.isLastAttempt;
      logger.error('export failed', { exportId, final, error: cause });
      if (final) await exports.fail(orgId, exportId, failure.message).catch(() => undefined);
      throw failure;
    }
  }

  /** Expired exports: their files are deleted, then they are `expired`. Returns how many. */
  async expireDue(): Promise<number> {
    const due = await this.deps.exports.due();
    for (const { orgId, id } of due) {
      await rm(join(this.deps.dir, exportFileName(orgId, id)), { force: true });
      await this.deps.exports.expire(orgId, id);
    }
    if (due.length > 0) this.deps.logger.info('expired exports deleted', { count: due.length });
    return due.length;
  }

  private async write(orgId: string, exportId: string): Promise<{ sizeBytes: number; sha256: string }> {
    const { store, servers, dir } = this.deps;
    const org = await store.get(orgId);
    if (org.status !== 'active') throw new JobFailure(`the organization is ${org.status}; only an active organization is exported`, { permanent: true });
    const server = await servers.of(org);
    const url = withDatabase(server.adminUrl, org.databaseName);
    await mkdir(dir, { recursive: true });
    const target = join(dir, exportFileName(orgId, exportId));
    // A name of its own per run: two runs of one export (a stalled job) never write the same file.
    const partial = join(dir, `.${exportFileName(orgId, exportId)}.${randomBytes(6).toString('hex')}.partial`);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        sizeBytes += chunk.length;
        done(null, chunk);
      },
    });
    const dump = spawnPgDump(url);
    try {
      const [written, code] = await Promise.allSettled([pipeline(dump.stdout, measure, createWriteStream(partial, { mode: 0o600 })), dump.exited]);
      if (code.status === 'fulfilled' && code.value !== 0) {
        throw new JobFailure(`pg_dump failed (exit ${code.value}): ${redactPasswords(dump.errors(), [url], MAX_TOOL_ERROR)}`, { permanent: false });
      }
      if (written.status === 'rejected') throw written.reason;
      if ((await stat(partial)).size !== sizeBytes) throw new JobFailure('the export file is not the size that was written', { permanent: false });
      await rename(partial, target);
      return { sizeBytes, sha256: hash.digest('hex') };
    } finally {
      await rm(partial, { force: true });
    }
  }
}

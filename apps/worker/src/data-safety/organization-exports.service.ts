import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OrganizationExportStore } from '@orgms/common/data-safety/organization-export-store';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import type { OrganizationServers } from '../fleet/organization-servers';
import { JobFailure } from '../job-failure';
import type { Pipeline } from '../pipelines/pipeline';
import { runPipeline } from '../pipelines/pipeline-runner';
import { type DumpFile, dumpToFile } from './dump-file';

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
  /** Called before the export step (tests hold an export running with it). */
  beforeStep?: (step: ExportStep, orgId: string) => Promise<void> | void;
}

export type ExportOutcome = 'exported' | 'skipped';

const EXPORT_STEPS = ['export'] as const;
type ExportStep = (typeof EXPORT_STEPS)[number];

interface ExportRun {
  orgId: string;
  exportId: string;
}

/** The file of an export: made of our own ids only, never of a name a user chose. */
export function exportFileName(orgId: string, exportId: string): string {
  return `${orgId}-${exportId}.dump`;
}

/**
 * Writes `pg_dump -Fc` of an organization's database (on its server, with the server's admin URL)
 * into EXPORT_DIR (dump-file.ts: never half a file under the final name). A re-run rewrites the
 * file and records it again; an export that failed or expired is left alone.
 */
export class OrganizationExportsService {
  /** One step: a final failure marks the export `failed` with the reason; a re-run rewrites the file. */
  readonly pipeline: Pipeline<ExportRun, ExportStep> = {
    name: 'export',
    order: EXPORT_STEPS,
    steps: {
      export: {
        run: async ({ orgId, exportId }) => {
          const file = await this.write(orgId, exportId);
          await this.deps.exports.finish(orgId, exportId, file, this.deps.ttlMs);
          return { bytes: file.sizeBytes };
        },
      },
    },
    recordFailure: async ({ orgId, exportId }, { failure, final }) => {
      if (final) await this.deps.exports.fail(orgId, exportId, failure.message);
    },
  };

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
    const { beforeStep } = this.deps;
    await runPipeline(
      this.pipeline,
      { orgId, exportId },
      { logger, isLastAttempt: options.isLastAttempt, beforeStep: beforeStep && ((step) => beforeStep(step, orgId)) },
    );
    logger.info('organization exported', { exportId, ms: Date.now() - started });
    return 'exported';
  }

  /** Exports asked for more than `olderThanMs` ago and still not done: their job may be lost. */
  unfinished(olderThanMs: number): Promise<{ id: string; orgId: string; requestId: string | null }[]> {
    return this.deps.exports.unfinished(olderThanMs);
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

  private async write(orgId: string, exportId: string): Promise<DumpFile> {
    const { store, servers, dir } = this.deps;
    const org = await store.get(orgId);
    if (org.status !== 'active') throw new JobFailure(`the organization is ${org.status}; only an active organization is exported`, { permanent: true });
    const server = await servers.of(org);
    return dumpToFile(withDatabase(server.adminUrl, org.databaseName), dir, exportFileName(orgId, exportId));
  }
}

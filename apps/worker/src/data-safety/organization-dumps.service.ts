import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DumpFileRecord, OrganizationDump, OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import type { OrganizationServers } from '../fleet/organization-servers';
import { JobFailure } from '../job-failure';
import { backupsMade } from '../metrics';
import type { Pipeline } from '../pipelines/pipeline';
import { runPipeline } from '../pipelines/pipeline-runner';
import { verifyDumpFile, writeDump } from './dump-file';

/** The dumps a job of their own makes (an archive is made inside the purge, with the same steps). */
export type JobDumpKind = 'export' | 'backup';

export interface DumpOptions {
  requestId: string;
  /** When true a failure is final: the dump becomes `failed` with the reason. */
  isLastAttempt: boolean;
}

/** Where one kind's files go (absolute) and how long a finished one is kept (null: until retention decides). */
export interface DumpKindSettings {
  dir: string;
  ttlMs: (dump: OrganizationDump) => number | null;
}

export interface DumpDeps {
  store: Pick<OrganizationStore, 'get'>;
  dumps: OrganizationDumpStore;
  servers: OrganizationServers;
  logger: Logger;
  kinds: Record<JobDumpKind, DumpKindSettings>;
  /** Called before each step (tests hold a dump running with it). */
  beforeStep?: (step: DumpStep, orgId: string) => Promise<void> | void;
}

export type DumpOutcome = 'dumped' | 'skipped';

const DUMP_STEPS = ['dump', 'verify'] as const;
export type DumpStep = (typeof DUMP_STEPS)[number];

interface DumpRun {
  dump: OrganizationDump & { orgId: string; kind: JobDumpKind };
  /** The file the dump step wrote. */
  file?: DumpFileRecord;
}

/** The file of an export or backup: made of our own ids only, never of a name a user chose. */
export function dumpFileName(orgId: string, dumpId: string): string {
  return `${orgId}-${dumpId}.dump`;
}

const PAST = { export: 'exported', backup: 'backed up' } as const;

/**
 * Exports and backups of an organization's database, one pipeline: `pg_dump -Fc` with its manifest
 * on the organization's server (dump-file.ts: never half a file under the final name), then the
 * file read back (`pg_restore --list`, SHA-256 from disk). A re-run rewrites the file and records
 * it again; a dump that failed or expired is left alone.
 */
export class OrganizationDumpsService {
  /** A final failure marks the dump `failed` with the reason; a re-run starts again with a new file. */
  readonly pipeline: Pipeline<DumpRun, DumpStep> = {
    name: 'dump',
    order: DUMP_STEPS,
    steps: {
      dump: {
        run: async (run) => {
          const { dump } = run;
          run.file = await this.write(dump);
          await this.deps.dumps.recordFile(dump.kind, dump.orgId, dump.id, run.file);
          return { bytes: run.file.sizeBytes };
        },
      },
      verify: {
        run: async ({ dump, file }) => {
          const written = file as DumpFileRecord;
          await verifyDumpFile(join(this.settings(dump.kind).dir, written.fileName), written);
          await this.deps.dumps.markVerified(dump.id, this.settings(dump.kind).ttlMs(dump));
          if (dump.kind === 'backup') backupsMade.inc({ outcome: 'verified' });
        },
      },
    },
    recordFailure: async ({ dump }, { failure, final }) => {
      if (!final) return;
      await this.deps.dumps.fail(dump.kind, dump.orgId, dump.id, failure.message);
      if (dump.kind === 'backup') backupsMade.inc({ outcome: 'failed' });
    },
  };

  constructor(private readonly deps: DumpDeps) {}

  async dump(kind: JobDumpKind, orgId: string, dumpId: string, options: DumpOptions): Promise<DumpOutcome> {
    const { dumps, logger, beforeStep } = this.deps;
    const current = await dumps.get(kind, orgId, dumpId).catch(() => undefined);
    if (!current || current.status === 'failed' || current.status === 'expired') {
      logger.info('nothing to dump', { kind, dumpId, status: current?.status ?? null });
      return 'skipped';
    }
    await dumps.start(kind, orgId, dumpId);
    const started = Date.now();
    await runPipeline(
      this.pipeline,
      { dump: { ...current, orgId, kind } },
      { logger, isLastAttempt: options.isLastAttempt, beforeStep: beforeStep && ((step) => beforeStep(step, orgId)) },
    );
    logger.info(`organization ${PAST[kind]}`, { kind, dumpId, ms: Date.now() - started });
    return 'dumped';
  }

  /** Dumps of this kind asked for more than `olderThanMs` ago and still not done: their job may be lost. */
  unfinished(kind: JobDumpKind, olderThanMs: number): Promise<{ id: string; orgId: string; requestId: string | null }[]> {
    return this.deps.dumps.unfinished(kind, olderThanMs);
  }

  /** Dumps of this kind whose time is up: their files are deleted, then they are `expired`. Returns how many. */
  async expireDue(kind: JobDumpKind): Promise<number> {
    const due = await this.deps.dumps.due(kind);
    for (const { orgId, id, fileName } of due) {
      await rm(join(this.settings(kind).dir, fileName ?? dumpFileName(orgId, id)), { force: true });
      await this.deps.dumps.expire(kind, orgId, id);
    }
    if (due.length > 0) this.deps.logger.info(`expired ${kind}s deleted`, { count: due.length });
    return due.length;
  }

  private settings(kind: JobDumpKind): DumpKindSettings {
    return this.deps.kinds[kind];
  }

  private async write(dump: DumpRun['dump']): Promise<DumpFileRecord> {
    const { store, servers } = this.deps;
    const org = await store.get(dump.orgId);
    // A restore backs up the data it is about to replace while the organization is `restoring`.
    const dumpable = org.status === 'active' || (org.status === 'restoring' && dump.backupKind === 'pre_restore');
    if (!dumpable) throw new JobFailure(`the organization is ${org.status}; only an active organization is ${PAST[dump.kind]}`, { permanent: true });
    const server = await servers.of(org);
    return writeDump(withDatabase(server.adminUrl, org.databaseName), this.settings(dump.kind).dir, dumpFileName(dump.orgId, dump.id));
  }
}

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { OrganizationArchive, OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import type { PlacementService } from '@orgms/common/fleet/placement-service';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import type { OrganizationEvent } from '@orgms/common/organizations/organization-event.entity';
import type { OrganizationMetadata, OrganizationMetadataChanges } from '@orgms/common/organizations/organization-metadata';
import { DEFAULT_ORGANIZATION_SORT, sortsByInstant } from '@orgms/common/organizations/organization-search';
import type { OrganizationStatus } from '@orgms/common/organizations/organization-status';
import type { NewOrganization, OrganizationStore } from '@orgms/common/organizations/organization-store';
import { slugify } from '@orgms/common/organizations/slug';
import type { OrganizationJobs } from '@orgms/common/queues/provisioning-queue';
import { hashPassword } from '@orgms/common/sign-in/passwords';
import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import type { InvalidatedCache } from '../events/invalidated-cache';
import type { JobHandover } from '../http/job-handover';
import { decodeSortedCursor, encodeSortedCursor, type Page } from '../http/pagination';
import type { IdempotencyKey, IdempotentRequests } from './idempotent-requests';
import type { OrganizationFilter } from './organizations.schemas';

export interface CreateOrganizationInput {
  organization_name: string;
  email: string;
  password: string;
  /** A platform admin may name the database server; otherwise placement chooses. */
  database_server?: string;
  /** Set by platform admins only (billing, CRM). */
  external_id?: string;
  metadata?: OrganizationMetadata;
}

export interface UpdateOrganizationInput {
  organization_name?: string;
  email?: string;
  /** null removes it. */
  external_id?: string | null;
  /** Merged into the current map; null removes a key. */
  metadata?: OrganizationMetadataChanges;
}

/** GET /organizations as the query schema gives it (filters, page); the sort may be left to its default by other callers. */
export type OrganizationListInput = Omit<OrganizationFilter, 'sort'> & Partial<Pick<OrganizationFilter, 'sort'>>;

/** An archive as an operator needs it: its row, and the command that brings it back as a new organization. */
export interface ListedArchive extends OrganizationArchive {
  orgId: string;
  /** `npm run org:restore -- --archive <ARCHIVE_DIR>/<file name>` (apps/cli/src/restore-organization.ts), the path absolute. */
  restoreCommand: string;
}

/** A value as one shell word: as it is when made of safe characters only, else single-quoted. */
function shellWord(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** What the service uses of OrganizationStore (its unit spec gives it a fake). */
export type OrganizationRecords = Pick<
  OrganizationStore,
  'create' | 'get' | 'findLiveByName' | 'list' | 'countByStatus' | 'transition' | 'amend' | 'markDeleted' | 'restore' | 'lastEventId' | 'eventsAfter'
>;

export interface OrganizationsServiceDeps {
  /** ORG_DATABASE_PREFIX: the database name is derived from it and the id, once, at creation. */
  databasePrefix: string;
  /** ORG_DELETE_GRACE_MS: how long a deleted organization keeps its database and can be restored. */
  deleteGraceMs: number;
  bcryptRounds: number;
  store: OrganizationRecords;
  placement: Pick<PlacementService, 'candidates' | 'choose'>;
  jobs: OrganizationJobs;
  /** Where a job Redis refuses waits for the reconnect. */
  handover: Pick<JobHandover, 'submit'>;
  /** This replica's copies of organization rows, dropped on every change heard over pub/sub. */
  cache?: Pick<InvalidatedCache<Organization>, 'get'>;
  /** Creates sent with an Idempotency-Key. */
  idempotent?: Pick<IdempotentRequests, 'once'>;
  /** The archives purges wrote (dumps of kind archive), and ARCHIVE_DIR (absolute), where their files are. */
  archives: { store: Pick<OrganizationDumpStore, 'listArchives'>; dir: string };
}

/**
 * Organizations in the control plane: create, read, rename, delete, restore, retry, and the
 * archives their purges left. Status changes go through the store, which refuses what the
 * transition table does not allow (409); the work on the organization's database is the worker's,
 * asked for by a job after the change is committed.
 */
export class OrganizationsService {
  constructor(private readonly deps: OrganizationsServiceDeps) {}

  /** A new organization with its first admin (the password hashed), placed and provisioned (placeAndProvision). */
  async create(input: CreateOrganizationInput, requestId: string, idempotency?: IdempotencyKey): Promise<Organization> {
    const { idempotent, store } = this.deps;
    // A replay answers the organization as it is now, read from the store, not from a cache.
    if (idempotency && idempotent)
      return idempotent.once(
        idempotency,
        input,
        () => this.createNow(input, requestId),
        (id) => store.get(id),
      );
    return this.createNow(input, requestId);
  }

  private async createNow(input: CreateOrganizationInput, requestId: string): Promise<Organization> {
    const pendingAdminPasswordHash = await hashPassword(input.password, this.deps.bcryptRounds);
    return this.placeAndProvision(
      {
        name: input.organization_name,
        adminEmail: input.email,
        pendingAdminPasswordHash,
        externalId: input.external_id ?? null,
        metadata: input.metadata ?? {},
      },
      requestId,
      input.database_server,
    );
  }

  /**
   * A sandbox: a new organization (new id, database and role, placed like any new one) filled
   * from a verified backup of `source`; its users, the first admin among them, come from the
   * backup, so no admin is seeded. The source is not touched.
   */
  createFromBackup(source: Organization, backupId: string, name: string, requestId: string): Promise<Organization> {
    return this.placeAndProvision({ name, adminEmail: source.adminEmail, pendingAdminPasswordHash: null, restoredFromArchiveId: backupId }, requestId);
  }

  /** Places the organization on a server (503 when none can take it), records it as `pending`, then asks the worker to provision it. */
  private async placeAndProvision(
    fields: Pick<NewOrganization, 'name' | 'adminEmail' | 'pendingAdminPasswordHash' | 'restoredFromArchiveId' | 'externalId' | 'metadata'>,
    requestId: string,
    databaseServer?: string,
  ): Promise<Organization> {
    const { placement } = this.deps;
    const candidates = await placement.candidates({ named: databaseServer });
    const id = randomUUID();
    const org = await this.deps.store.create(
      { id, slug: slugify(fields.name), databaseName: databaseNameFor(id, this.deps.databasePrefix), ...fields },
      { requestId, place: (liveByServer) => placement.choose(candidates, liveByServer).id },
    );
    await this.enqueue('provisioning', () => this.deps.jobs.provisionNew({ orgId: id, requestId }), id);
    return org;
  }

  /** The organization as every request sees it: from this replica's cache while its pub/sub subscription is up. */
  get(id: string): Promise<Organization> {
    const { cache, store } = this.deps;
    return cache ? cache.get(id, () => store.get(id)) : store.get(id);
  }

  /** The live organization with this name as it looks (any case, full width, look-alike letters), if any. */
  findLiveByName(name: string): Promise<Organization | undefined> {
    return this.deps.store.findLiveByName(name);
  }

  /** One page in the asked sort; a cursor is followed only in the sort it was written for (a 400 otherwise). */
  async list(input: OrganizationListInput): Promise<Page<Organization>> {
    const sort = input.sort ?? DEFAULT_ORGANIZATION_SORT;
    const page = await this.deps.store.list({
      limit: input.limit,
      sort,
      after: input.cursor ? decodeSortedCursor(input.cursor, sort, sortsByInstant(sort)) : undefined,
      status: input.status,
      namePrefix: input.name,
      databaseServerId: input.database_server_id,
      externalId: input.external_id,
      createdAfter: input.created_after,
      createdBefore: input.created_before,
    });
    return { items: page.items, nextCursor: page.next ? encodeSortedCursor(sort, page.next) : null };
  }

  countByStatus(): Promise<Record<OrganizationStatus, number>> {
    return this.deps.store.countByStatus();
  }

  /**
   * Display name (and slug), admin email, external id and metadata (merged): the database name
   * never changes, no data moves.
   */
  update(id: string, input: UpdateOrganizationInput, requestId: string): Promise<Organization> {
    const patch: { name?: string; slug?: string; adminEmail?: string; externalId?: string | null } = {};
    if (input.organization_name !== undefined) Object.assign(patch, { name: input.organization_name, slug: slugify(input.organization_name) });
    if (input.email !== undefined) patch.adminEmail = input.email;
    if (input.external_id !== undefined) patch.externalId = input.external_id;
    const audit = input.organization_name !== undefined ? 'organization.renamed' : 'organization.updated';
    return this.deps.store.amend(id, patch, { requestId, detail: `updated ${Object.keys(input).join(', ')}`, audit, metadataChanges: input.metadata });
  }

  /**
   * `deleted` at once: its users are refused from now on and its name is free, but its database
   * is kept for the grace period (restore). With `purge` (platform admins) the worker archives
   * and drops it now. DELETE sent again changes nothing (with `purge`, it asks for the job again).
   */
  async delete(id: string, requestId: string, options: { purge?: boolean } = {}): Promise<Organization> {
    const { store } = this.deps;
    let org = await store.get(id);
    if (org.status !== 'deleted' && org.status !== 'purging' && org.status !== 'purged') {
      org = await store.markDeleted(id, { requestId, graceMs: this.deps.deleteGraceMs });
    }
    if (!options.purge || org.status === 'purged') return org;
    if (org.status === 'deleted')
      org = await store.transition(id, 'purging', {
        onlyFrom: ['deleted'],
        step: 'archive',
        requestId,
        detail: 'purge requested',
        audit: 'organization.purged',
      });
    await this.enqueue('purge', () => this.deps.jobs.purge({ orgId: id, requestId }), id);
    return org;
  }

  /** `deleted → active` within the grace period, under a new name when the old one was taken since. */
  restore(id: string, input: { organization_name?: string }, requestId: string): Promise<Organization> {
    const name = input.organization_name;
    return this.deps.store.restore(id, { requestId, ...(name === undefined ? {} : { name, slug: slugify(name) }) });
  }

  /**
   * Every archive recorded for the organization, newest first, each with its `org:restore` command.
   * Found whatever its status (a purged one is a tombstone that keeps its id); 404 for an unknown
   * id; none (`[]`) for one never purged.
   */
  async archives(id: string): Promise<ListedArchive[]> {
    await this.get(id);
    const { store, dir } = this.deps.archives;
    const archives = await store.listArchives(id);
    return archives.map((archive) => ({ ...archive, orgId: id, restoreCommand: `npm run org:restore -- --archive ${shellWord(join(dir, archive.fileName))}` }));
  }

  /** Re-runs provisioning of a `failed` organization; its half-made database is adopted or rebuilt. */
  async retry(id: string, requestId: string): Promise<Organization> {
    const org = await this.deps.store.transition(id, 'provisioning', {
      onlyFrom: ['failed'],
      step: 'retry_requested',
      requestId,
      detail: 'retry requested',
      audit: 'organization.retried',
    });
    await this.enqueue('provisioning', () => this.deps.jobs.provision({ orgId: id, requestId }), id);
    return org;
  }

  /** The id of the organization's newest event ("0" when none): where a status stream starts. */
  lastEventId(id: string): Promise<string> {
    return this.deps.store.lastEventId(id);
  }

  /** The events after `afterId`, oldest first: what a status stream resuming with Last-Event-ID missed. */
  eventsAfter(id: string, afterId: string): Promise<OrganizationEvent[]> {
    return this.deps.store.eventsAfter(id, afterId);
  }

  /**
   * The change is committed before the job is asked for, so if Redis is down (or slow) nothing
   * is lost: the job is handed over when Redis is back (the reconciler is the backstop) and the
   * caller still gets its answer.
   */
  private enqueue(job: string, add: () => Promise<boolean>, orgId: string): Promise<void> {
    return this.deps.handover.submit(`${job}:${orgId}`, add);
  }
}

import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import type { ServerDirectory } from '@orgms/common/fleet/server-directory';
import type { Logger } from '@orgms/common/logger';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import type { OrganizationStatus } from '@orgms/common/organizations/organization-status';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { spareMarkerFor, spareNameFor } from '@orgms/common/tenancy/database-names';
import type { Spare, SpareDatabaseStore } from '@orgms/common/tenancy/spare-database-store';
import { latestTenantMigration } from '@orgms/migrations';
import { DatabaseAdmin } from './database-admin';
import { currentTemplate } from './template-database';
import { dropSpareRole, ensureSpareRoleOwning, spareRoleTakeover, type TenantRoles } from './tenant-roles';

export interface SpareDatabasesDeps {
  /** SPARE_DATABASES (0: none are made, and those left are retired), the prefix, ORG_TEMPLATE_ENABLED. */
  settings: { spareDatabases: number; databasePrefix: string; templateEnabled: boolean };
  spares: SpareDatabaseStore;
  organizations: Pick<OrganizationStore, 'liveCountsByServer'>;
  directory: Pick<ServerDirectory, 'all' | 'get'>;
  roles: Pick<TenantRoles, 'forClaim'>;
  logger: Logger;
}

/** What one refill of a server did. */
export interface RefillOutcome {
  made: number;
  retired: number;
}

/** A claimed spare stays claimed while its organization may still take it up (a resumed or retried provisioning). */
const CLAIM_KEPT_WHILE: readonly (OrganizationStatus | null)[] = ['pending', 'provisioning', 'failed'];

/**
 * Spare databases (docs/operations/fleet-and-capacity.md, "Spare databases"): each active server
 * keeps SPARE_DATABASES clones of its template, with their roles, so that creating an
 * organization renames one (a catalog change) instead of copying the template on the request's
 * path. Names come from the spare's id (`<prefix>spare_<hex>`), the marker `orgms:spare:<id>`
 * says whose it is (never an organization's, so never an orphan), and the control database's
 * `spare_databases` rows are the durable state every step converges from.
 */
export class SpareDatabases {
  /** A refill per server at a time in this process, whether another was asked for meanwhile, and the claims it forgets first. */
  private readonly refills = new Map<string, { running: Promise<void>; again: boolean; claimed: string[] }>();

  constructor(private readonly deps: SpareDatabasesDeps) {}

  /**
   * Makes a ready spare on `server` the organization's database, under the organization's lock on
   * `admin`: the claim is recorded first (a resumed attempt takes up its own claim again), then the
   * database and its role are renamed in one transaction, then the claim is forgotten. False when
   * there is nothing to claim, the organization's database already exists (adopted by the caller)
   * or it is no longer wanted: the caller creates (or refuses) as without spares.
   */
  async claim(
    org: Pick<Organization, 'id' | 'databaseName'>,
    server: DatabaseServer,
    admin: DatabaseAdmin,
    stillWanted: () => Promise<boolean>,
  ): Promise<boolean> {
    const { settings, spares, roles } = this.deps;
    // Spares turned off: whatever is left of them is the sweep's to retire, not to claim.
    if (!settings.templateEnabled || settings.spareDatabases === 0) return false;
    return admin.withLock(org.id, async () => {
      // Independent reads at once: this is on the request's path (the server's catalog and the control database).
      const [marker, wanted] = await Promise.all([admin.markerOf(org.databaseName), stillWanted()]);
      if (marker !== undefined) {
        // Made already (a claim renamed before a crash, or a clone): the caller adopts it.
        await spares.forgetClaimOf(org.id);
        return false;
      }
      if (!wanted) return false;
      for (;;) {
        const [spare, role] = await Promise.all([spares.claim(org.id, server.id, latestTenantMigration), roles.forClaim(org, server)]);
        if (!spare) return false;
        const name = spareNameFor(spare.id, settings.databasePrefix);
        const outcome = await admin.takeSpare(
          name,
          org.id,
          org.databaseName,
          role &&
            (async (client) => {
              const takeover = await spareRoleTakeover(client, { id: spare.id, roleName: name }, org.id, role.credentials, role.limits);
              for (const setting of takeover?.limits.skipped ?? [])
                this.deps.logger.warn('database limit not set: the admin role is not a superuser', { setting });
              return takeover?.statements;
            }),
        );
        if (outcome === 'taken') {
          // Forgetting the claim is off the request's path: the background refill does it first (a claim a crash left
          // behind, its organization past provisioning, is retired by the next refill instead).
          this.refillSoon(server.id, spare.id);
          return true;
        }
        if (outcome === 'refused') {
          // The organization has a role of its own already: clone as without spares, and leave this one to the next.
          await spares.release(spare.id);
          return false;
        }
        // Its database is gone (dropped by hand): forget it and take the next.
        this.deps.logger.warn('spare database missing; forgotten', { server: server.name, spare: name });
        await spares.forget(spare.id);
      }
    });
  }

  /**
   * Brings `serverId`'s spares to what it should keep: retires those cloned at another tenant
   * migration, leftovers of a crash while one was made, claims whose organization is gone, and any
   * beyond the target (a server that is not active keeps none); then clones until the target is
   * met. The target is SPARE_DATABASES, within the room the server's capacity leaves beside its
   * organizations. Under the server's spare lock, so two workers never refill one server at once.
   */
  async refill(serverId: string): Promise<RefillOutcome> {
    const server = await this.deps.directory.get(serverId);
    const admin = await DatabaseAdmin.connect(server.adminUrl);
    try {
      return await admin.withLock(`spares:${server.id}`, () => this.refillLocked(server, admin));
    } finally {
      await admin.close();
    }
  }

  /**
   * Refills `serverId` in the background (after a claim, whose row `claimed` it forgets first), at
   * most one refill per server running and one waiting.
   */
  refillSoon(serverId: string, claimed?: string): void {
    const current = this.refills.get(serverId);
    if (current) {
      current.again = true;
      if (claimed) current.claimed.push(claimed);
      return;
    }
    const entry = { running: Promise.resolve(), again: false, claimed: claimed ? [claimed] : [] };
    entry.running = (async () => {
      do {
        entry.again = false;
        const forgotten = entry.claimed.splice(0);
        await Promise.all(forgotten.map((id) => this.deps.spares.forget(id)))
          .then(() => this.refill(serverId))
          .catch((error) =>
            this.deps.logger.warn('could not refill spare databases; the spare-databases sweep will', { serverId, error: (error as Error).message }),
          );
      } while (entry.again);
      this.refills.delete(serverId);
    })();
    this.refills.set(serverId, entry);
  }

  /** Resolves once no background refill runs (the worker's shutdown waits for them). */
  async idle(): Promise<void> {
    while (this.refills.size > 0) await Promise.all([...this.refills.values()].map((r) => r.running));
  }

  /** One pass over every server, and those still holding spares: what the spare-databases sweep runs. */
  async refillAll(): Promise<{ made: number; retired: number; unreachable: string[] }> {
    const servers = await this.deps.directory.all();
    const withSpares = new Set(await this.deps.spares.serverIds());
    const summary = { made: 0, retired: 0, unreachable: [] as string[] };
    // With spares turned off, only servers that still hold some are looked at (no connection to the others every interval).
    const keeps = (s: DatabaseServer) => s.status === 'active' && this.deps.settings.spareDatabases > 0 && this.deps.settings.templateEnabled;
    for (const server of servers.filter((s) => keeps(s) || withSpares.has(s.id))) {
      try {
        const outcome = await this.refill(server.id);
        summary.made += outcome.made;
        summary.retired += outcome.retired;
      } catch (error) {
        this.deps.logger.warn('could not refill spare databases', { server: server.name, error: (error as Error).message });
        summary.unreachable.push(server.name);
      }
    }
    return summary;
  }

  private async refillLocked(server: DatabaseServer, admin: DatabaseAdmin): Promise<RefillOutcome> {
    const { settings, spares, organizations, logger } = this.deps;
    const outcome: RefillOutcome = { made: 0, retired: 0 };
    const started = performance.now();
    const rows = await spares.onServer(server.id);
    const live = (await organizations.liveCountsByServer()).get(server.id) ?? 0;
    const target = server.status === 'active' && settings.templateEnabled ? Math.max(0, Math.min(settings.spareDatabases, server.capacity - live)) : 0;
    const kept: Spare[] = [];
    for (const spare of rows) {
      const stale =
        spare.status === 'preparing' || // we hold the server's lock: nobody is making it, a crash left it
        spare.templateVersion !== latestTenantMigration ||
        (spare.status === 'claimed' && !CLAIM_KEPT_WHILE.includes(spare.claimantStatus as OrganizationStatus | null));
      if (!stale) kept.push(spare);
      else if (await this.retire(server, admin, spare)) outcome.retired += 1;
    }
    const ready = kept.filter((s) => s.status === 'ready');
    // The newest go first: the oldest have been ready longest and are claimed first.
    for (const spare of ready.slice(target).reverse()) {
      if (await this.retire(server, admin, spare)) outcome.retired += 1;
    }
    for (let count = ready.length; count < target; count += 1) {
      if (!(await this.make(server, admin))) break;
      outcome.made += 1;
    }
    // durationMs over `made`: the refill time SPARE_DATABASES is sized from (docs/operations/fleet-and-capacity.md).
    if (outcome.made + outcome.retired > 0)
      logger.info('spare databases refilled', { server: server.name, target, ...outcome, durationMs: Math.round(performance.now() - started) });
    return outcome;
  }

  /** Clones one spare and gives it its role; false when the template is not current (nothing to clone from yet). */
  private async make(server: DatabaseServer, admin: DatabaseAdmin): Promise<boolean> {
    const { settings, spares } = this.deps;
    const spare = await spares.begin(server.id, latestTenantMigration);
    const name = spareNameFor(spare.id, settings.databasePrefix);
    if (!(await admin.cloneSpare(name, currentTemplate(settings.databasePrefix), spareMarkerFor(spare.id)))) {
      await spares.forget(spare.id);
      return false;
    }
    if (server.tenantRoles) await ensureSpareRoleOwning(server.adminUrl, name, spare.id);
    await spares.markReady(spare.id);
    return true;
  }

  /**
   * Withdraws a spare (unless a claim took it meanwhile: false), drops its database (named after
   * its id, so whatever is under that name is ours) and its role, then forgets it.
   */
  private async retire(server: DatabaseServer, admin: DatabaseAdmin, spare: Spare): Promise<boolean> {
    if (spare.status !== 'preparing' && !(await this.deps.spares.withdraw(spare.id, spare.status))) return false;
    const name = spareNameFor(spare.id, this.deps.settings.databasePrefix);
    await admin.dropDatabaseIfExists(name);
    if (server.tenantRoles) await dropSpareRole(server.adminUrl, spare.id, name);
    await this.deps.spares.forget(spare.id);
    return true;
  }
}

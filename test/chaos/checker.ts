import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { type FileDigest, hashFile, reprDigest } from '@orgms/common/data-safety/file-hash';
import { withDatabase } from '@orgms/common/database/database-urls';
import { QUEUES, SWEEPS, sweepSchedulerId } from '@orgms/common/queues/registry';
import { markerFor, spareMarkerFor, spareNameFor } from '@orgms/common/tenancy/database-names';
import { Queue } from 'bullmq';
import { controlQuery } from '../../harness/service-env';
import { DEFAULT_SERVER, query } from '../support/fleet-processes';
import { type ChaosFleet, SECOND_SERVER } from './chaos-fleet';
import type { FaultWindow } from './nemesis';
import type { ReceivedDelivery, WebhookReceiver } from './webhook-receiver';
import { ambiguous, type Operation } from './workload';

export { ambiguous };

export const SETTLED = ['active', 'failed', 'deleted', 'purged'];

export interface Verdict {
  invariant: string;
  violations: Violation[];
  /** What was looked at, e.g. "212 creates answered 202". */
  checked: string;
}

export interface Violation {
  message: string;
  /** The organization (or request) it is about, to print the history around it. */
  orgId?: string;
  seq?: number;
}

interface OrgRow extends Record<string, unknown> {
  id: string;
  name: string;
  name_key: string;
  status: string;
  database_name: string;
  database_server_id: string | null;
  last_error: string | null;
  deleted_from: string | null;
}

const CREATES = ['create', 'create_same_name', 'create_idempotent'];
/** Only to learn the prefix of spares' names (`<prefix>spare_`) from the function that makes them. */
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** The real state at the end: the control database, `pg_database` on both servers, ARCHIVE_DIR and Redis. */
export interface FinalState {
  orgs: OrgRow[];
  databases: { server: string; datname: string }[];
  archives: { org_id: string; file_name: string; status: string; sha256: string; size_bytes: string }[];
  users: Map<string, { id: string; email: string; role: string; password_hash: string }[]>;
  /** Organizations that were `active` at some point: only they certainly had a database with users in it. */
  everActive: Set<string>;
  /** Sweeps whose job scheduler is gone from Redis. */
  unscheduledSweeps: string[];
  queuedJobs: Record<string, number>;
  /** `organization_events`, oldest first. */
  events: { id: string; org_id: string; from_status: string | null; to_status: string }[];
  /** The soak's endpoint's rows of `webhook_deliveries`. */
  deliveries: { org_id: string; event_id: string; event_type: string; message_id: string; status: string; attempts: number }[];
  exports: { id: string; org_id: string; status: string; size_bytes: string | null; sha256: string | null; error: string | null }[];
  /** Spare databases (named `<prefix>spare_<hex>`) on both servers, with their markers: not in `databases`. */
  spareDatabases: { server: string; datname: string; marker: string | null }[];
  /** Roles named like spares on both servers (each spare has one, when its server has tenant roles). */
  spareRoles: { server: string; rolname: string }[];
  /** `spare_databases`, with the name each row's database and role have. */
  spares: { id: string; server_id: string; status: string; claimed_by: string | null; name: string }[];
  /** Markers of the organizations' databases (`databases`), by server and name. */
  markers: Map<string, string | null>;
}

/** The soak's webhook endpoint and the receiver it points at. */
export interface Webhooks {
  endpointId: string;
  receiver: WebhookReceiver;
}

/** Export statuses that are not final: none may be left once everything settled. */
export const EXPORT_IN_PROGRESS = ['queued', 'running'];

/** The name of the server an organization's row names (`default` or `pg-b`). */
function serverNameOf(fleet: ChaosFleet, id: string | null): string | undefined {
  return id === fleet.pgB ? 'pg-b' : id ? 'default' : undefined;
}

export async function readFinalState(fleet: ChaosFleet, webhookEndpointId: string): Promise<FinalState> {
  const { fe } = fleet;
  const orgs = await controlQuery<OrgRow>(
    fe,
    'SELECT id, name, name_key, status, database_name, database_server_id::text, last_error, deleted_from FROM organizations',
  );
  const databases: FinalState['databases'] = [];
  const spareDatabases: FinalState['spareDatabases'] = [];
  const spareRoles: FinalState['spareRoles'] = [];
  const markers: FinalState['markers'] = new Map();
  const sparePrefix = spareNameFor(ZERO_UUID, fe.orgPrefix).slice(0, -32);
  const isSpare = (name: string) => name.startsWith(sparePrefix);
  for (const [server, url] of [
    ['default', DEFAULT_SERVER],
    ['pg-b', SECOND_SERVER],
  ]) {
    const rows = await query<{ datname: string; marker: string | null }>(
      url,
      "SELECT datname, shobj_description(oid, 'pg_database') AS marker FROM pg_database WHERE left(datname, length($1)) = $1 AND datname <> $1 || 'template'",
      [fe.orgPrefix],
    );
    for (const row of rows) {
      if (isSpare(row.datname)) spareDatabases.push({ server, ...row });
      else {
        databases.push({ server, datname: row.datname });
        markers.set(`${server}/${row.datname}`, row.marker);
      }
    }
    const roles = await query<{ rolname: string }>(url, 'SELECT rolname FROM pg_roles WHERE left(rolname, length($1)) = $1', [sparePrefix]);
    for (const row of roles) spareRoles.push({ server, rolname: row.rolname });
  }
  const spares = (
    await controlQuery<Omit<FinalState['spares'][number], 'name'> & Record<string, unknown>>(
      fe,
      'SELECT id::text, server_id::text, status, claimed_by::text FROM spare_databases',
    )
  ).map((row) => ({ ...row, name: spareNameFor(row.id, fe.orgPrefix) }));
  const archives = await controlQuery<FinalState['archives'][number] & Record<string, unknown>>(
    fe,
    `SELECT org_id::text, file_name, status, sha256, size_bytes::text FROM organization_dumps WHERE kind = 'archive'`,
  );
  const events = await controlQuery<FinalState['events'][number] & Record<string, unknown>>(
    fe,
    'SELECT id::text, org_id::text, from_status, to_status FROM organization_events ORDER BY id',
  );
  const everActive = new Set(events.filter((e) => e.to_status === 'active').map((e) => e.org_id));
  const deliveries = await controlQuery<FinalState['deliveries'][number] & Record<string, unknown>>(
    fe,
    'SELECT org_id::text, event_id::text, event_type, message_id, status, attempts FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY seq',
    [webhookEndpointId],
  );
  const exports = await controlQuery<FinalState['exports'][number] & Record<string, unknown>>(
    fe,
    `SELECT id::text, org_id::text, status, size_bytes::text, sha256, error FROM organization_dumps WHERE kind = 'export'`,
  );
  const users = new Map<string, FinalState['users'] extends Map<string, infer U> ? U : never>();
  for (const org of orgs) {
    // On its own server: right after a move switched, the source of the same name may still be being dropped.
    const placed = databases.find((d) => d.datname === org.database_name && d.server === serverNameOf(fleet, org.database_server_id));
    // An organization deleted before it was ever active may keep a database its provisioning never migrated.
    if (!placed || !['active', 'deleted'].includes(org.status) || !everActive.has(org.id)) continue;
    const url = withDatabase(placed.server === 'default' ? DEFAULT_SERVER : SECOND_SERVER, org.database_name);
    users.set(org.id, await query(url, 'SELECT id::text, email, role, password_hash FROM users'));
  }
  const queue = new Queue(QUEUES.maintenance, { connection: { url: fleet.redis.url }, prefix: fe.queuePrefix });
  try {
    const sweeps = Object.values(SWEEPS);
    const schedulers = await Promise.all(sweeps.map((sweep) => queue.getJobScheduler(sweepSchedulerId(sweep))));
    const unscheduledSweeps = sweeps.filter((_, i) => schedulers[i] === undefined);
    const queuedJobs = await queuedWork(fleet);
    return {
      orgs,
      databases,
      archives,
      users,
      everActive,
      unscheduledSweeps,
      queuedJobs,
      events,
      deliveries,
      exports,
      spareDatabases,
      spareRoles,
      spares,
      markers,
    };
  } finally {
    await queue.close();
  }
}

/**
 * Jobs of organizations' work not done yet, by queue and state: on the provisioning queue and on the
 * tenant-work queue (exports, moves, whose source is dropped after the organization is active again).
 */
export async function queuedWork(fleet: ChaosFleet): Promise<Record<string, number>> {
  const queues = [QUEUES.provisioning, QUEUES.tenantWork].map(
    (name) => new Queue(name, { connection: { url: fleet.redis.url }, prefix: fleet.fe.queuePrefix }),
  );
  try {
    const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children')));
    return Object.fromEntries(counts.flatMap((count, i) => Object.entries(count).map(([state, n]) => [`${queues[i].name} ${state}`, n])));
  } finally {
    await Promise.all(queues.map((q) => q.close()));
  }
}

/** Every invariant of the soak, each with its violations (none: it holds). */
export async function checkInvariants(
  history: Operation[],
  windows: FaultWindow[],
  state: FinalState,
  fleet: ChaosFleet,
  recoveryBoundMs: number,
  webhooks: Webhooks,
): Promise<Verdict[]> {
  const byId = new Map(state.orgs.map((o) => [o.id, o]));
  const serverName = (id: string | null) => serverNameOf(fleet, id);
  const opsOn = (orgId: string, kinds: string[]) => history.filter((op) => op.args.org === orgId && kinds.includes(op.op));
  const verdicts: Verdict[] = [];

  // 1. Creates: a 202 ends active (or in a state the history explains), with exactly one database; a 4xx left nothing.
  {
    const violations: Violation[] = [];
    const accepted = history.filter((op) => CREATES.includes(op.op) && op.status === 202 && op.result.id);
    for (const op of accepted) {
      const org = byId.get(op.result.id as string);
      if (!org) {
        violations.push({ message: `create #${op.seq} answered 202 with ${op.result.id}, which the control database does not know`, seq: op.seq });
        continue;
      }
      const explained =
        org.status === 'active' ||
        (org.status === 'deleted' && opsOn(org.id, ['delete', 'purge']).some((d) => d.status === 200 || d.status === 202 || ambiguous(d))) ||
        (org.status === 'purged' && opsOn(org.id, ['purge']).some((d) => d.status === 202 || ambiguous(d)));
      if (!explained)
        violations.push({ message: `org ${org.id} answered 202 ends ${org.status} (last_error ${org.last_error}), which no request explains`, orgId: org.id });
    }
    const ambiguousNames = new Set(history.filter((op) => CREATES.includes(op.op) && ambiguous(op)).map((op) => op.args.name));
    const acceptedIds = new Set(accepted.map((op) => op.result.id));
    for (const org of state.orgs) {
      // A client learns an id only from a 202, so an organization nobody was answered 202 for still has its first name.
      if (!acceptedIds.has(org.id) && !ambiguousNames.has(org.name)) {
        violations.push({
          message: `org ${org.id} ("${org.name}", ${org.status}) exists, but no create answered 202 for it and none was ambiguous`,
          orgId: org.id,
        });
      }
    }
    verdicts.push({
      invariant: 'every create answered 202 ends active (or as the history explains); a create answered 4xx left nothing',
      violations,
      checked: `${accepted.length} creates answered 202, ${state.orgs.length} organizations in the control database`,
    });
  }

  // 2. Names: no two live organizations share a name; one Idempotency-Key, one organization.
  {
    const violations: Violation[] = [];
    const live = state.orgs.filter((o) => !['deleted', 'purged'].includes(o.status));
    const seen = new Map<string, OrgRow>();
    for (const org of live) {
      const other = seen.get(org.name_key);
      if (other) violations.push({ message: `live orgs ${other.id} and ${org.id} share the name "${org.name}"`, orgId: org.id });
      seen.set(org.name_key, org);
    }
    const byKey = new Map<string, Set<string>>();
    for (const op of history.filter((o) => o.args.key && o.status === 202 && o.result.id)) {
      const ids = byKey.get(op.args.key as string) ?? new Set();
      ids.add(op.result.id as string);
      byKey.set(op.args.key as string, ids);
    }
    for (const [key, ids] of byKey)
      if (ids.size > 1) violations.push({ message: `Idempotency-Key ${key} answered ${ids.size} organizations: ${[...ids].join(', ')}` });
    verdicts.push({
      invariant: 'no two live organizations share a name; an Idempotency-Key never made two',
      violations,
      checked: `${live.length} live organizations, ${byKey.size} idempotency keys answered 202`,
    });
  }

  // 3. Users: every 2xx write is there at the end (also across moves and restores); nothing half-done.
  {
    const violations: Violation[] = [];
    let checkedUsers = 0;
    const createdUsers = history.filter((op) => op.op === 'user_create' && op.status === 201 && op.result.id);
    for (const op of createdUsers) {
      const users = state.users.get(op.args.org as string);
      if (!users) continue; // purged (or never reachable): nothing to read the users from
      checkedUsers++;
      const user = users.find((u) => u.id === op.result.id);
      if (!user) {
        violations.push({
          message: `user ${op.args.email} (${op.result.id}) answered 201 by #${op.seq} is missing from org ${op.args.org}`,
          orgId: op.args.org,
          seq: op.seq,
        });
        continue;
      }
      const updates = history.filter((u) => u.op === 'user_update' && u.args.user === user.id);
      const lastAcked = [...updates].reverse().find((u) => u.status === 200);
      const allowed = new Set<string>([lastAcked?.args.role ?? (op.args.role as string)]);
      for (const u of updates) if (u.seq > (lastAcked?.seq ?? 0) && ambiguous(u)) allowed.add(u.args.role as string);
      if (!allowed.has(user.role)) {
        violations.push({
          message: `user ${user.email} of org ${op.args.org} has role ${user.role}; the answered writes allow only ${[...allowed].join('|')}`,
          orgId: op.args.org,
          seq: lastAcked?.seq,
        });
      }
    }
    for (const [orgId, users] of state.users) {
      const emails = new Map<string, number>();
      for (const user of users) {
        emails.set(user.email.toLowerCase(), (emails.get(user.email.toLowerCase()) ?? 0) + 1);
        if (!/^\$2[aby]\$\d\d\$.{53}$/.test(user.password_hash))
          violations.push({ message: `user ${user.email} of org ${orgId} has no valid password hash`, orgId });
        if (user.email.startsWith('owner-')) continue;
        const writes = history.filter((op) => op.op === 'user_create' && op.args.org === orgId && op.args.email === user.email);
        if (!writes.some((w) => w.status === 201 || ambiguous(w))) {
          violations.push({ message: `user ${user.email} is in org ${orgId}, but every create of it was refused`, orgId });
        }
      }
      for (const [email, count] of emails) if (count > 1) violations.push({ message: `org ${orgId} has ${count} users ${email}`, orgId });
    }
    verdicts.push({
      invariant: 'every user write answered 2xx is present at the end (across moves and restores); no write answered 5xx is half-done',
      violations,
      checked: `${checkedUsers} users answered 201 in organizations with a database, ${history.filter((o) => o.op === 'user_update' && o.status === 200).length} role changes answered 200`,
    });
  }

  // 4. Databases: no orphan, none missing, none dropped without a verified archive.
  {
    const violations: Violation[] = [];
    const byName = new Map(state.orgs.map((o) => [o.database_name, o]));
    for (const db of state.databases) {
      const org = byName.get(db.datname);
      if (!org) violations.push({ message: `orphan database ${db.datname} on ${db.server}: the control database knows no organization of it` });
      else if (!['active', 'deleted'].includes(org.status)) {
        violations.push({ message: `database ${db.datname} on ${db.server} belongs to org ${org.id}, which is ${org.status}`, orgId: org.id });
      } else if (serverName(org.database_server_id) !== db.server) {
        violations.push({
          message: `database ${db.datname} of org ${org.id} is on ${db.server}, but the control database places it on ${serverName(org.database_server_id)}`,
          orgId: org.id,
        });
      }
    }
    for (const org of state.orgs) {
      if (['active', 'deleted'].includes(org.status)) {
        const copies = state.databases.filter((d) => d.datname === org.database_name);
        // One deleted before it was active may have none (provisioning stopped) or the one it was building.
        const expected = org.status === 'active' || org.deleted_from === 'active' ? [1] : [0, 1];
        if (!expected.includes(copies.length))
          violations.push({
            message: `org ${org.id} (${org.status}) has ${copies.length} databases (${copies.map((c) => c.server).join(', ')})`,
            orgId: org.id,
          });
      }
      if (org.status === 'purged') {
        const verified = state.archives.filter((a) => a.org_id === org.id && a.status === 'verified');
        // One deleted before it was ever active had no database worth keeping (provisioning stops under the org lock).
        if (verified.length === 0 && state.everActive.has(org.id))
          violations.push({ message: `org ${org.id} was active, and is purged without a verified archive`, orgId: org.id });
        for (const archive of verified) {
          const file = await hashFile(join(fleet.archiveDir, archive.file_name)).catch(() => undefined);
          if (!file) violations.push({ message: `archive ${archive.file_name} of purged org ${org.id} is not in ARCHIVE_DIR`, orgId: org.id });
          else if (!matchesRecord(file, archive)) {
            violations.push({ message: `archive ${archive.file_name} of purged org ${org.id} does not match its recorded size and SHA-256`, orgId: org.id });
          }
        }
      }
    }
    verdicts.push({
      invariant: 'no orphan database, none missing, none dropped without a verified archive',
      violations,
      checked: `${state.databases.length} organization databases on both servers, ${state.orgs.filter((o) => o.status === 'purged').length} purged with ${state.archives.length} archives`,
    });
  }

  // 5. No 5xx (or no answer) outside the fault windows plus the recovery bound; every answer documented.
  {
    const violations: Violation[] = [];
    const covered = (op: Operation) => windows.some((w) => op.end >= w.start && op.start <= w.end + recoveryBoundMs);
    // Writes to an organization while it moves answer 503 + Retry-After by design (docs/api/fleet.md, moves): not a
    // fault. A write that raced the move's start only learns that the database refused it, hence the second wording.
    const WRITES_PAUSED = ['The organization is being moved', 'The organization database is read-only while it is moved or restored'];
    const pausedByMove = (op: Operation) => op.status === 503 && WRITES_PAUSED.some((start) => op.result.detail?.startsWith(start) === true);
    for (const op of history) {
      if (ambiguous(op) && !pausedByMove(op) && !covered(op)) {
        violations.push({
          message: `#${op.seq} ${op.method} ${op.path} answered ${op.status || op.result.error} outside every fault window + ${recoveryBoundMs / 1000} s`,
          orgId: op.args.org,
          seq: op.seq,
        });
      }
      if (op.contract)
        violations.push({ message: `#${op.seq} ${op.method} ${op.path} ${op.status} is not in the OpenAPI document: ${op.contract.join('; ')}`, seq: op.seq });
    }
    verdicts.push({
      invariant: `outside the fault windows + ${recoveryBoundMs / 1000} s no request answered 5xx (or not at all), except writes paused by a move; every answer is documented`,
      violations,
      checked: `${history.length} requests, ${history.filter(ambiguous).length} answered 5xx or not at all`,
    });
  }

  // 6. Redis: every sweep is still scheduled, and nothing is left queued once everything settled.
  {
    const violations: Violation[] = [];
    if (state.unscheduledSweeps.length > 0) {
      violations.push({ message: `sweep schedulers gone from Redis: ${state.unscheduledSweeps.join(', ')}; nothing brings back the work they find any more` });
    }
    const queued = Object.entries(state.queuedJobs).filter(([, n]) => n > 0);
    if (queued.length > 0) violations.push({ message: `jobs left on the work queues after settling: ${queued.map(([k, n]) => `${k} ${n}`).join(', ')}` });
    verdicts.push({ invariant: 'Redis: every sweep is scheduled; nothing left queued', violations, checked: JSON.stringify(state.queuedJobs) });
  }

  verdicts.push(checkSpares(state, fleet));
  verdicts.push(checkWebhooks(history, state, webhooks));
  verdicts.push(checkRefreshTokens(history));
  verdicts.push(await checkExports(history, state, fleet));
  return verdicts;
}

/** Spare rows an organization may still take up (its provisioning failed, a retry resumes its claim): not left over. */
const CLAIM_KEPT_BY = ['failed'];

/**
 * 11. Spare databases (docs/operations/fleet-and-capacity.md, "Spare databases"), once settled:
 * each server holds at most SPARE_DATABASES of them beside those claimed; every spare database
 * has its `spare_databases` row, its marker and its role, and every row its database (except a
 * claim whose rename committed: the organization's database is it now); none is left preparing or
 * claimed for an organization past provisioning; no organization's database carries a spare's
 * marker or is listed as a spare.
 */
function checkSpares(state: FinalState, fleet: ChaosFleet): Verdict {
  const violations: Violation[] = [];
  const limit = Number(fleet.fe.env.SPARE_DATABASES);
  const orgs = new Map(state.orgs.map((o) => [o.id, o]));
  const rows = new Map(state.spares.map((s) => [s.name, s]));
  for (const db of state.spareDatabases) {
    const row = rows.get(db.datname);
    if (!row) violations.push({ message: `spare database ${db.datname} on ${db.server} has no row in spare_databases` });
    else if (serverNameOf(fleet, row.server_id) !== db.server)
      violations.push({ message: `spare database ${db.datname} is on ${db.server}, but its row places it on ${serverNameOf(fleet, row.server_id)}` });
    else if (db.marker !== spareMarkerFor(row.id)) violations.push({ message: `spare database ${db.datname} on ${db.server} is marked ${db.marker}` });
    if (!state.spareRoles.some((r) => r.server === db.server && r.rolname === db.datname))
      violations.push({ message: `spare database ${db.datname} on ${db.server} has no role of its own` });
  }
  for (const role of state.spareRoles) {
    if (!state.spareDatabases.some((d) => d.server === role.server && d.datname === role.rolname))
      violations.push({ message: `role ${role.rolname} on ${role.server} is a spare's, but no spare database is named so` });
  }
  for (const row of state.spares) {
    const claimant = row.claimed_by ? orgs.get(row.claimed_by) : undefined;
    const server = serverNameOf(fleet, row.server_id);
    const database = state.spareDatabases.find((d) => d.datname === row.name && d.server === server);
    if (row.status === 'preparing') violations.push({ message: `spare ${row.id} on ${server} is still preparing after settling` });
    else if (row.status === 'claimed' && !CLAIM_KEPT_BY.includes(claimant?.status ?? ''))
      violations.push({
        message: `spare ${row.id} on ${server} is still claimed by org ${row.claimed_by} (${claimant?.status}) after settling`,
        orgId: row.claimed_by ?? undefined,
      });
    else if (!database && !(row.status === 'claimed' && state.databases.some((d) => d.datname === claimant?.database_name)))
      violations.push({ message: `spare ${row.id} (${row.status}) on ${server} has no database ${row.name}` });
  }
  for (const server of ['default', 'pg-b']) {
    const held = state.spareDatabases.filter((d) => d.server === server && rows.get(d.datname)?.status !== 'claimed').length;
    if (held > limit) violations.push({ message: `${server} holds ${held} unclaimed spare databases, more than SPARE_DATABASES (${limit})` });
  }
  for (const org of state.orgs) {
    for (const db of state.databases.filter((d) => d.datname === org.database_name)) {
      const marker = state.markers.get(`${db.server}/${db.datname}`);
      if (marker && marker !== markerFor(org.id))
        violations.push({ message: `database ${db.datname} of org ${org.id} (${org.status}) on ${db.server} is marked ${marker}`, orgId: org.id });
    }
  }
  const counts = ['default', 'pg-b'].map((server) => `${server} ${state.spareDatabases.filter((d) => d.server === server).length}`).join(', ');
  return {
    invariant: `spare databases: at most SPARE_DATABASES (${limit}) unclaimed per server; each has its row, marker and role, and each row its database; none left preparing or claimed; no organization's database is a spare`,
    violations,
    checked: `${state.spares.length} spare rows (${countStatuses(state.spares) || 'none'}), spare databases ${counts}, ${state.spareRoles.length} spare roles`,
  };
}

/**
 * 7. Webhooks: the outbox lost nothing (every event that is a webhook has its delivery), every
 * delivery reached the receiver with a valid signature, and each organization's events were first
 * acknowledged in event order (a duplicate may come later: delivery is at least once).
 */
function checkWebhooks(history: Operation[], state: FinalState, { receiver }: Webhooks): Verdict {
  const violations: Violation[] = [];
  const deliveryOf = new Map(state.deliveries.map((d) => [d.event_id, d]));
  const received = new Map<string, ReceivedDelivery[]>();
  for (const ack of receiver.acknowledged) received.set(ack.messageId, [...(received.get(ack.messageId) ?? []), ack]);
  // Creation and every status change are webhooks (an event without a status change only when it renamed: below).
  for (const event of state.events) {
    if (event.from_status !== null && event.from_status === event.to_status) continue;
    if (!deliveryOf.has(event.id)) {
      violations.push({
        message: `event ${event.id} of org ${event.org_id} (${event.from_status ?? 'created'} → ${event.to_status}) has no delivery`,
        orgId: event.org_id,
      });
    }
  }
  const eventIds = new Set(state.events.map((e) => e.id));
  for (const delivery of state.deliveries) {
    if (!eventIds.has(delivery.event_id) && state.orgs.some((o) => o.id === delivery.org_id)) {
      violations.push({
        message: `delivery ${delivery.message_id} names event ${delivery.event_id}, which is not in organization_events`,
        orgId: delivery.org_id,
      });
    }
    const acks = received.get(delivery.message_id) ?? [];
    if (delivery.status !== 'delivered') {
      violations.push({
        message: `delivery ${delivery.message_id} (${delivery.event_type}, org ${delivery.org_id}) is ${delivery.status} after ${delivery.attempts} attempts`,
        orgId: delivery.org_id,
      });
    }
    if (acks.length === 0) {
      violations.push({
        message: `delivery ${delivery.message_id} (${delivery.event_type}, org ${delivery.org_id}, ${delivery.status}) never reached the receiver`,
        orgId: delivery.org_id,
      });
    } else if (acks.some((a) => a.type !== delivery.event_type || a.orgId !== delivery.org_id || String(a.eventId) !== delivery.event_id)) {
      violations.push({ message: `the receiver got ${delivery.message_id} with another type, organization or event id than its row`, orgId: delivery.org_id });
    }
  }
  // Renames answered 200: each is an organization.renamed event of its own.
  for (const org of state.orgs) {
    const renames = history.filter((op) => op.op === 'rename' && op.args.org === org.id && op.status === 200).length;
    const renamed = state.deliveries.filter((d) => d.org_id === org.id && d.event_type === 'organization.renamed').length;
    if (renamed < renames)
      violations.push({ message: `org ${org.id} was renamed ${renames} times (200), but has ${renamed} organization.renamed deliveries`, orgId: org.id });
  }
  // Order: per organization, the first acknowledgement of each event comes after those of every earlier event.
  const latest = new Map<string, { eventId: number; messageId: string }>();
  const seen = new Set<string>();
  let outOfOrder = 0;
  for (const ack of receiver.acknowledged) {
    if (seen.has(ack.messageId)) continue;
    seen.add(ack.messageId);
    const before = latest.get(ack.orgId);
    if (before && before.eventId > ack.eventId) {
      outOfOrder += 1;
      violations.push({
        message: `org ${ack.orgId}: event ${ack.eventId} (${ack.type}) first arrived after event ${before.eventId} (${before.messageId})`,
        orgId: ack.orgId,
      });
    } else latest.set(ack.orgId, { eventId: ack.eventId, messageId: ack.messageId });
  }
  if (receiver.unverified > 0) violations.push({ message: `${receiver.unverified} requests to the receiver did not verify (Standard Webhooks signature)` });
  const duplicates = receiver.acknowledged.length - seen.size;
  return {
    invariant:
      'webhooks: every event that is a webhook has its delivery, delivered and acknowledged with a valid signature; per organization first arrivals in event order',
    violations,
    checked: `${state.events.length} events, ${state.deliveries.length} deliveries, ${receiver.requests} requests to the receiver (${receiver.acknowledged.length} acknowledged, ${duplicates} duplicates, ${receiver.refusedOnPurpose} refused on purpose, ${receiver.unverified} unverified), ${outOfOrder} out of order`,
  };
}

const REFRESHES = ['refresh', 'refresh_reuse'];

/**
 * 8. Refresh tokens: none answered 200 twice (a rotated-away token is never traded again); a
 * rotated-away token presented again answers 401; and a family once refused (401: a reuse, a
 * revoked account or organization) or logged out (204) answers nothing but 401 (or no answer, a
 * 5xx) afterwards: after a reuse its newest token, after a logout the token logged out with.
 */
function checkRefreshTokens(history: Operation[]): Verdict {
  const violations: Violation[] = [];
  const refreshes = history.filter((op) => REFRESHES.includes(op.op));
  const traded = new Map<string, Operation>();
  for (const op of refreshes.filter((o) => o.status === 200)) {
    const first = traded.get(op.args.token as string);
    if (first) {
      violations.push({
        message: `refresh token ${op.args.token} (family ${op.args.family}) answered 200 twice: #${first.seq} and #${op.seq}`,
        orgId: op.args.org,
        seq: op.seq,
      });
    } else traded.set(op.args.token as string, op);
  }
  const ended = new Map<string, Operation>();
  for (const op of history) {
    if (!op.args.family) continue;
    const endedBy = (REFRESHES.includes(op.op) && op.status === 401) || (op.op === 'logout' && op.status === 204);
    if (endedBy && !ended.has(op.args.family)) ended.set(op.args.family, op);
  }
  for (const op of refreshes) {
    const end = ended.get(op.args.family as string);
    if (end && op.start > end.end && op.status !== 401 && !ambiguous(op)) {
      violations.push({
        message: `family ${op.args.family} ended by #${end.seq} (${end.op} ${end.status}), yet #${op.seq} answered ${op.status} for its ${op.args.presented} token`,
        orgId: op.args.org,
        seq: op.seq,
      });
    }
  }
  const reuses = refreshes.filter((op) => op.op === 'refresh_reuse' && op.args.presented === 'rotated');
  for (const reuse of reuses.filter((o) => !ambiguous(o) && o.status !== 401))
    violations.push({ message: `a rotated-away token presented again (#${reuse.seq}) answered ${reuse.status}, not 401`, seq: reuse.seq });
  const rotated = refreshes.filter((o) => o.result.rotated === 'yes').length;
  return {
    invariant:
      'refresh tokens: none answered 200 twice; a reused one answers 401; a family refused (401) or logged out answers only 401 afterwards (its newest token too)',
    violations,
    checked: `${refreshes.length} refreshes (${rotated} rotated, ${reuses.length} reuses), ${ended.size} families ended, ${history.filter((o) => o.op === 'logout').length} logouts`,
  };
}

/**
 * 9. Exports: every export answered 202 exists and none is still queued/running once settled;
 * every download answered 200 has as many bytes as its Content-Length and the SHA-256 of its
 * `Repr-Digest`; every ready export matches its recorded size and SHA-256 (its file in EXPORT_DIR,
 * and, when the workload did not download it and its organization is active, a download now).
 */
async function checkExports(history: Operation[], state: FinalState, fleet: ChaosFleet): Promise<Verdict> {
  const violations: Violation[] = [];
  const byId = new Map(state.exports.map((e) => [e.id, e]));
  const accepted = history.filter((op) => op.op === 'export' && op.status === 202 && op.result.id);
  for (const op of accepted) {
    if (!byId.has(op.result.id as string))
      violations.push({ message: `export ${op.result.id} answered 202 by #${op.seq} does not exist`, orgId: op.args.org, seq: op.seq });
  }
  for (const row of state.exports.filter((e) => EXPORT_IN_PROGRESS.includes(e.status))) {
    violations.push({ message: `export ${row.id} of org ${row.org_id} is still ${row.status} after settling`, orgId: row.org_id });
  }
  const downloads = history.filter((op) => op.op === 'export_download' && op.status === 200);
  for (const op of downloads) {
    const { bytes, content_length: length, repr_digest: digest, sha256 } = op.result;
    if (bytes !== length || digest !== reprDigest(sha256 as string)) {
      violations.push({
        message: `download #${op.seq} of export ${op.args.export}: ${bytes} bytes (Content-Length ${length}), SHA-256 ${reprDigest(sha256 as string)} (Repr-Digest ${digest})`,
        orgId: op.args.org,
        seq: op.seq,
      });
    }
  }
  const ready = state.exports.filter((e) => e.status === 'ready');
  const downloaded = new Set(downloads.map((op) => op.args.export));
  const liveOrgs = new Set(state.orgs.filter((o) => o.status === 'active').map((o) => o.id));
  let token: string | undefined;
  let checkedNow = 0;
  for (const row of ready) {
    const file = await hashFile(join(fleet.exportDir, `${row.org_id}-${row.id}.dump`)).catch(() => undefined);
    if (!file) violations.push({ message: `ready export ${row.id} of org ${row.org_id} has no file in EXPORT_DIR`, orgId: row.org_id });
    else if (!matchesRecord(file, row))
      violations.push({ message: `ready export ${row.id} of org ${row.org_id}: its file does not match its recorded size and SHA-256`, orgId: row.org_id });
    if (downloaded.has(row.id) || !liveOrgs.has(row.org_id)) continue;
    token ??= await fleet.adminToken();
    const res = await fetch(`${fleet.apiUrls[0]}/organizations/${row.org_id}/exports/${row.id}/download`, { headers: { authorization: `Bearer ${token}` } });
    const body = Buffer.from(await res.arrayBuffer());
    checkedNow += 1;
    const sha256 = createHash('sha256').update(body).digest('hex');
    if (
      res.status !== 200 ||
      res.headers.get('content-length') !== String(body.length) ||
      res.headers.get('repr-digest') !== reprDigest(sha256) ||
      sha256 !== row.sha256
    ) {
      violations.push({
        message: `ready export ${row.id} of org ${row.org_id} downloaded after settling: ${res.status}, ${body.length} bytes (Content-Length ${res.headers.get('content-length')}), Repr-Digest ${res.headers.get('repr-digest')}, SHA-256 ${sha256} (recorded ${row.sha256})`,
        orgId: row.org_id,
      });
    }
  }
  return {
    invariant: 'exports: every one answered 202 exists and ends ready/failed/expired; every download and every ready file matches its length and SHA-256',
    violations,
    checked: `${accepted.length} exports answered 202 (all exports now: ${countStatuses(state.exports) || 'none'}), ${downloads.length} downloads, ${checkedNow} ready ones downloaded after settling`,
  };
}

function countStatuses(rows: { status: string }[]): string {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.status, (counts.get(row.status) ?? 0) + 1);
  return [...counts.entries()].map(([status, n]) => `${status} ${n}`).join(', ');
}

/** A file on disk against the size and SHA-256 the control database recorded for it. */
function matchesRecord(file: FileDigest, recorded: { sha256: string | null; size_bytes: string | null }): boolean {
  return file.sha256 === recorded.sha256 && String(file.sizeBytes) === recorded.size_bytes;
}

import { createHash } from 'node:crypto';

const DAY_MS = 24 * 3600 * 1000;

/**
 * Where in every interval an organization's backup falls: a hash of its id, so organizations
 * spread evenly over the interval (no burst at midnight) and each keeps its moment across
 * restarts and replicas.
 */
export function backupSlotMs(orgId: string, intervalMs: number): number {
  return createHash('sha256').update(orgId).digest().readUIntBE(0, 6) % intervalMs;
}

/** The latest moment at or before `now` that is the organization's slot. */
function latestSlot(orgId: string, now: Date, intervalMs: number): number {
  const slot = backupSlotMs(orgId, intervalMs);
  return Math.floor((now.getTime() - slot) / intervalMs) * intervalMs + slot;
}

export interface BackupCandidate {
  orgId: string;
  serverId: string;
  /** When its latest scheduled backup was asked for, or the organization was created (null: neither known). */
  lastBackupAt: Date | null;
  /** Whether it has a backup queued or running now. */
  open: boolean;
}

export interface BackupScheduleSettings {
  now: Date;
  /** BACKUP_INTERVAL. */
  intervalMs: number;
  /** BACKUP_CONCURRENCY: backups queued or running at once per database server. */
  concurrencyPerServer: number;
}

/**
 * The organizations whose scheduled backup is to be asked for now: those whose slot has come
 * since their last backup, at most BACKUP_CONCURRENCY per server counting the backups open
 * there already, the longest waiting first (never backed up before all).
 */
export function chooseBackups(candidates: BackupCandidate[], { now, intervalMs, concurrencyPerServer }: BackupScheduleSettings): BackupCandidate[] {
  const room = new Map<string, number>();
  for (const { serverId, open } of candidates) room.set(serverId, (room.get(serverId) ?? concurrencyPerServer) - (open ? 1 : 0));
  const due = candidates
    .filter((c) => !c.open && (c.lastBackupAt === null || c.lastBackupAt.getTime() < latestSlot(c.orgId, now, intervalMs)))
    .sort((a, b) => (a.lastBackupAt?.getTime() ?? Number.NEGATIVE_INFINITY) - (b.lastBackupAt?.getTime() ?? Number.NEGATIVE_INFINITY));
  return due.filter((c) => {
    const left = room.get(c.serverId) ?? 0;
    room.set(c.serverId, left - 1);
    return left > 0;
  });
}

/** UTC day number, and ISO week number (weeks start on Monday; day 0, 1970-01-01, was a Thursday). */
const dayOf = (at: Date) => Math.floor(at.getTime() / DAY_MS);
const weekOf = (at: Date) => Math.floor((dayOf(at) + 3) / 7);

/**
 * The scheduled backups retention keeps: the newest of each of the latest `keepDaily` days with
 * a backup, then, among the older ones, the newest of each of the latest `keepWeekly` weeks.
 * Every other one expires.
 */
export function backupsToKeep(backups: { id: string; createdAt: Date }[], { keepDaily, keepWeekly }: { keepDaily: number; keepWeekly: number }): Set<string> {
  const newestFirst = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const kept = new Set<string>();
  const days = new Set<number>();
  const weeks = new Set<number>();
  let oldestDaily = Number.POSITIVE_INFINITY;
  for (const backup of newestFirst) {
    const day = dayOf(backup.createdAt);
    if (days.size < keepDaily && !days.has(day)) {
      days.add(day);
      kept.add(backup.id);
      oldestDaily = day;
    }
  }
  for (const backup of newestFirst) {
    const week = weekOf(backup.createdAt);
    if (dayOf(backup.createdAt) >= oldestDaily || weeks.size >= keepWeekly || weeks.has(week)) continue;
    weeks.add(week);
    kept.add(backup.id);
  }
  return kept;
}

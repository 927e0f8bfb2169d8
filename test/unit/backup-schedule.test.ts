import { randomUUID } from 'node:crypto';
import { type BackupCandidate, backupSlotMs, backupsToKeep, chooseBackups } from '@orgms/common/data-safety/backup-schedule';
import { expect } from 'chai';

const HOUR = 3600000;
const DAY = 24 * HOUR;

describe('Backups: schedule and retention (no server)', () => {
  describe('slots', () => {
    it('when many organizations are scheduled, then their slots spread over the interval: every hour of the day gets some, none gets a burst', () => {
      const perHour = new Array<number>(24).fill(0);
      for (let i = 0; i < 2400; i += 1) perHour[Math.floor(backupSlotMs(randomUUID(), DAY) / HOUR)] += 1;
      expect(Math.min(...perHour)).to.be.greaterThan(50);
      expect(Math.max(...perHour)).to.be.lessThan(150);
    });

    it('when an organization is asked for its slot twice, then it is the same, within the interval', () => {
      const id = randomUUID();
      expect(backupSlotMs(id, DAY)).to.equal(backupSlotMs(id, DAY));
      expect(backupSlotMs(id, DAY)).to.be.within(0, DAY - 1);
    });
  });

  describe('selection', () => {
    const now = new Date('2026-12-06T12:00:00.000Z');
    const candidate = (serverId: string, lastBackupAt: Date | null, open = false): BackupCandidate => ({ orgId: randomUUID(), serverId, lastBackupAt, open });

    it('when an organization was backed up since its latest slot, then it is not due; one backed up before it, or never, is', () => {
      const org = candidate('s1', null);
      const slot = new Date(Math.floor((now.getTime() - backupSlotMs(org.orgId, DAY)) / DAY) * DAY + backupSlotMs(org.orgId, DAY));
      const choose = (lastBackupAt: Date | null) => chooseBackups([{ ...org, lastBackupAt }], { now, intervalMs: DAY, concurrencyPerServer: 5 });
      expect(choose(null)).to.have.length(1);
      expect(choose(new Date(slot.getTime() - 1))).to.have.length(1);
      expect(choose(new Date(slot.getTime() + 1))).to.deep.equal([]);
    });

    it('when more organizations of one server are due than BACKUP_CONCURRENCY, then only that many are chosen there (open backups count), the longest waiting first; other servers have their own', () => {
      const longest = candidate('s1', new Date(now.getTime() - 10 * DAY));
      const due = [candidate('s1', null), candidate('s1', new Date(now.getTime() - 3 * DAY)), longest, candidate('s2', null), candidate('s2', null)];
      const chosen = chooseBackups(due, { now, intervalMs: DAY, concurrencyPerServer: 2 });
      const onS1 = chosen.filter((c) => c.serverId === 's1');
      expect(onS1).to.have.length(2);
      expect(onS1[0].orgId).to.equal(due[0].orgId, 'never backed up comes first');
      expect(onS1[1].orgId).to.equal(longest.orgId);
      expect(chosen.filter((c) => c.serverId === 's2')).to.have.length(2);
      const busy = chooseBackups([...due, candidate('s1', null, true)], { now, intervalMs: DAY, concurrencyPerServer: 2 });
      expect(
        busy.filter((c) => c.serverId === 's1'),
        'one slot of s1 is taken by an open backup',
      ).to.have.length(1);
    });
  });

  describe('retention', () => {
    const now = new Date('2026-12-06T23:00:00.000Z');
    const daily = (days: number) => Array.from({ length: days }, (_, i) => ({ id: `b${i}`, createdAt: new Date(now.getTime() - i * DAY) }));

    it('when there are 60 daily backups, then 7 daily and 4 weekly are kept: the 7 newest days, then the newest of each of the 4 weeks before', () => {
      const kept = backupsToKeep(daily(60), { keepDaily: 7, keepWeekly: 4 });
      expect(kept.size).to.equal(11);
      for (let i = 0; i < 7; i += 1) expect(kept.has(`b${i}`)).to.equal(true);
      const weekly = [...kept].filter((id) => Number(id.slice(1)) >= 7).map((id) => Number(id.slice(1)));
      const weekOf = (i: number) => Math.floor((Math.floor((now.getTime() - i * DAY) / DAY) + 3) / 7);
      expect(new Set(weekly.map(weekOf)).size).to.equal(4);
      expect(Math.max(...weekly)).to.be.lessThan(7 + 5 * 7);
    });

    it('when a day has several backups, then only its newest counts as that day', () => {
      const backups = [
        { id: 'late', createdAt: new Date('2026-12-06T20:00:00.000Z') },
        { id: 'early', createdAt: new Date('2026-12-06T01:00:00.000Z') },
        { id: 'yesterday', createdAt: new Date('2026-12-05T20:00:00.000Z') },
      ];
      expect([...backupsToKeep(backups, { keepDaily: 2, keepWeekly: 0 })].sort()).to.deep.equal(['late', 'yesterday']);
    });
  });
});

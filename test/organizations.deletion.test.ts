import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile } from '@orgms/common/data-safety/file-hash';
import { runPgRestore } from '@orgms/common/data-safety/pg-dump';
import { organizationEventsChannel } from '@orgms/common/events/organization-events';
import { SWEEPS } from '@orgms/common/queues/registry';
import { roleNameFor } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import IORedis from 'ioredis';
import { runCli } from './support/cli';
import { queryControlDatabase } from './support/control-database';
import { ManualClock } from './support/manual-clock';
import { databaseExists, databaseOf, withClient } from './support/org-databases';
import { auth, createActiveOrganization, orgLogin, queryOrgDatabase } from './support/org-users';
import { type CreatedOrg, createOrganization, deleteOrganization, purgeOrganization, uniqueName, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

/** The users of an organization as a count and one checksum over every column that matters. */
async function usersDigest(stack: TestStack, orgId: string): Promise<{ count: number; checksum: string }> {
  const [row] = await queryOrgDatabase<{ count: number; checksum: string }>(
    stack,
    orgId,
    `SELECT count(*)::int AS count,
            md5(coalesce(string_agg(id::text || email || password_hash || role || is_active::text || token_version::text, ',' ORDER BY id), '')) AS checksum
       FROM users`,
  );
  return row;
}

async function addUsers(stack: TestStack, orgId: string, count: number): Promise<void> {
  await queryOrgDatabase(
    stack,
    orgId,
    `INSERT INTO users (id, email, password_hash, role)
     SELECT gen_random_uuid(), 'user' || n || '@example.test', '$2b$04$' || md5(n::text), 'member' FROM generate_series(1, $1) AS n`,
    [count],
  );
}

describe('Deleting an organization: grace period, restore, archived purge', () => {
  let stack: TestStack;
  const admin = async () => ({ Authorization: `Bearer ${await stack.adminToken()}` });

  before(async () => {
    stack = await startStack({ worker: true });
  });
  after(() => stack?.stop());

  describe('DELETE /organizations/:id (soft)', () => {
    it('when an active organization is deleted, then it is deleted at once, its users are refused with its status, its pools are evicted, its database is kept and its name is free', async () => {
      const org = await createActiveOrganization(stack);
      const token = await orgLogin(stack, org.id, org.email, org.password);
      const subscriber = new IORedis(stack.config.queue.redisUrl);
      const heard: { type: string; orgId: string }[] = [];
      await subscriber.subscribe(organizationEventsChannel(stack.config.queue));
      subscriber.on('message', (_channel, raw: string) => heard.push(JSON.parse(raw)));
      let deleted: Record<string, unknown>;
      try {
        const res = await stack.request.delete(`/organizations/${org.id}`).set(auth(token)).expect(200);
        deleted = res.body;
        await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        await subscriber.quit();
      }
      expect(deleted.status).to.equal('deleted');
      const grace = new Date(deleted.purge_after as string).getTime() - new Date(deleted.deleted_at as string).getTime();
      expect(grace, 'ORG_DELETE_GRACE_MS, 7 days by default').to.equal(7 * 24 * 3600 * 1000);
      expect(heard.filter((m) => m.type === 'evict' && m.orgId === org.id)).to.have.length(1);

      const users = await stack.request.get(`/organizations/${org.id}/users`).set(auth(token)).expect(409);
      expect(users.body.organization_status).to.equal('deleted');
      const login = await stack.request.post('/admin/login').send({ organization_id: org.id, email: org.email, password: org.password }).expect(409);
      expect(login.body.organization_status).to.equal('deleted');
      expect(await databaseExists(stack, databaseOf(stack, org.id)), 'the database is kept for the grace period').to.equal(true);

      const again = await stack.request
        .delete(`/organizations/${org.id}`)
        .set(await admin())
        .expect(200);
      expect(again.body).to.include({ status: 'deleted', deleted_at: deleted.deleted_at });
      await createOrganization(stack, { organization_name: org.name });
    });

    it('when an organization admin asks for ?purge=true, then it is a 403 and nothing changes', async () => {
      const org = await createActiveOrganization(stack);
      const token = await orgLogin(stack, org.id, org.email, org.password);
      await stack.request.delete(`/organizations/${org.id}?purge=true`).set(auth(token)).expect(403);
      const [row] = await queryControlDatabase(stack, 'SELECT status FROM organizations WHERE id = $1', [org.id]);
      expect(row.status).to.equal('active');
    });

    it('when ?purge is not a boolean, then it is a 400 and nothing changes', async () => {
      const org = await createActiveOrganization(stack);
      await stack.request
        .delete(`/organizations/${org.id}?purge=soon`)
        .set(await admin())
        .expect(400);
      const [row] = await queryControlDatabase(stack, 'SELECT status FROM organizations WHERE id = $1', [org.id]);
      expect(row.status).to.equal('active');
    });
  });

  describe('POST /organizations/:id/restore', () => {
    it('when a deleted organization is restored within the grace period, then it is active again with its users, who can log in', async () => {
      const org = await createActiveOrganization(stack);
      await addUsers(stack, org.id, 25);
      const before = await usersDigest(stack, org.id);
      await deleteOrganization(stack, org.id);
      const res = await stack.request
        .post(`/organizations/${org.id}/restore`)
        .set(await admin())
        .expect(200);
      expect(res.body).to.include({ id: org.id, status: 'active', name: org.name, deleted_at: null, purge_after: null });
      expect(await usersDigest(stack, org.id)).to.deep.equal(before);
      await orgLogin(stack, org.id, org.email, org.password);
    });

    it('when its name was taken since, then restore is a 409 unless a new organization_name is given', async () => {
      const org = await createActiveOrganization(stack);
      await deleteOrganization(stack, org.id);
      await createOrganization(stack, { organization_name: org.name.toUpperCase() });
      const taken = await stack.request
        .post(`/organizations/${org.id}/restore`)
        .set(await admin())
        .expect(409);
      expect(taken.body.detail).to.contain(org.name);
      const newName = uniqueName('Restored');
      const res = await stack.request
        .post(`/organizations/${org.id}/restore`)
        .set(await admin())
        .send({ organization_name: newName })
        .expect(200);
      expect(res.body).to.include({ status: 'active', name: newName });
    });

    it('when the organization is not deleted, or was deleted before it was ever active, then restore is a 409 with its status', async () => {
      const active = await createActiveOrganization(stack);
      const notDeleted = await stack.request
        .post(`/organizations/${active.id}/restore`)
        .set(await admin())
        .expect(409);
      expect(notDeleted.body.current_status).to.equal('active');

      await stack.worker?.stop();
      try {
        const pending = await createOrganization(stack);
        await deleteOrganization(stack, pending.id);
        const neverActive = await stack.request
          .post(`/organizations/${pending.id}/restore`)
          .set(await admin())
          .expect(409);
        expect(neverActive.body.detail).to.match(/deleted while pending/);
      } finally {
        stack.worker = await stack.startWorker();
      }
    });

    it('when an organization admin asks for a restore, then it is a 403', async () => {
      const org = await createActiveOrganization(stack);
      const token = await orgLogin(stack, org.id, org.email, org.password);
      await stack.request.post(`/organizations/${org.id}/restore`).set(auth(token)).expect(403);
    });
  });

  describe('purge: archive, verify, then drop', () => {
    /** Purged once, with 50 users: the specs that only read what a purge leaves behind share it. */
    let purged: CreatedOrg;
    before(async () => {
      purged = await createActiveOrganization(stack);
      await addUsers(stack, purged.id, 50);
      await purgeOrganization(stack, purged.id);
    });

    it('when a platform admin purges, then the database is archived (size and SHA-256 recorded, readable), dropped, and the organization is purged', async () => {
      const org = purged;
      expect(await databaseExists(stack, databaseOf(stack, org.id))).to.equal(false);
      const role = roleNameFor(org.id, stack.config.tenancy.databasePrefix);
      expect(
        await withClient(stack, (c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).then((r) => r.rowCount),
        'its role is dropped too',
      ).to.equal(0);

      const archives = await queryControlDatabase<{ file_name: string; size_bytes: string; sha256: string; status: string; verified_at: Date }>(
        stack,
        `SELECT file_name, size_bytes, sha256, status, verified_at FROM organization_dumps WHERE kind = 'archive' AND org_id = $1`,
        [org.id],
      );
      expect(archives).to.have.length(1);
      const [archive] = archives;
      expect(archive.file_name).to.match(new RegExp(`^${org.id}-\\d{8}T\\d{9}Z\\.dump$`));
      expect(archive.status).to.equal('verified');
      const path = join(stack.config.archives.dir, archive.file_name);
      const digest = await hashFile(path);
      expect(digest).to.deep.equal({ sizeBytes: Number(archive.size_bytes), sha256: archive.sha256 });
      expect((await runPgRestore(['--list', path])).stdout).to.match(/TABLE DATA public users/);

      const tombstone = await stack.request
        .get(`/organizations/${org.id}`)
        .set(await admin())
        .expect(200);
      expect(tombstone.body).to.include({ status: 'purged', purge_after: null });
      const restore = await stack.request
        .post(`/organizations/${org.id}/restore`)
        .set(await admin())
        .expect(409);
      expect(restore.body.current_status).to.equal('purged');
    });

    it('when a purge fails after the archive was verified, then its retry reuses that archive: one archive, one file, database dropped', async () => {
      let failures = 0;
      await stack.worker?.stop();
      stack.worker = await stack.startWorker({
        beforePurgeStep: (step) => {
          if (step === 'drop_database' && failures++ === 0) throw new Error('injected failure before the drop');
        },
      });
      try {
        const org = await createActiveOrganization(stack);
        await purgeOrganization(stack, org.id);
        expect(failures).to.equal(2);
        const rows = await queryControlDatabase(stack, `SELECT file_name FROM organization_dumps WHERE kind = 'archive' AND org_id = $1`, [org.id]);
        expect(rows).to.have.length(1);
        const files = (await readdir(stack.config.archives.dir)).filter((name) => name.includes(org.id));
        expect(files).to.deep.equal([rows[0].file_name]);
      } finally {
        await stack.worker?.stop();
        stack.worker = await stack.startWorker();
      }
    });

    it('when an organization deleted before it was ever provisioned is purged, then it ends purged without an archive', async () => {
      await stack.worker?.stop();
      const org = await createOrganization(stack);
      await deleteOrganization(stack, org.id);
      stack.worker = await stack.startWorker();
      await purgeOrganization(stack, org.id);
      const [row] = await queryControlDatabase<{ n: number }>(
        stack,
        `SELECT count(*)::int AS n FROM organization_dumps WHERE kind = 'archive' AND org_id = $1`,
        [org.id],
      );
      expect(row.n).to.equal(0);
    });

    describe('GET /organizations/:id/archives', () => {
      /** Active, never purged: it has no archive. */
      let active: CreatedOrg;
      before(async () => {
        active = await createActiveOrganization(stack);
      });

      it("when a platform admin asks for a purged organization's archives, then it lists exactly its verified archive, with the size and SHA-256 recorded (the file on disk matches) and the command that restores it", async () => {
        const res = await stack.request
          .get(`/organizations/${purged.id}/archives`)
          .set(await admin())
          .expect(200);
        const [row] = await queryControlDatabase<{ id: string; file_name: string; size_bytes: string; sha256: string; created_at: Date; verified_at: Date }>(
          stack,
          `SELECT id, file_name, size_bytes, sha256, created_at, verified_at FROM organization_dumps WHERE kind = 'archive' AND org_id = $1`,
          [purged.id],
        );
        const path = join(stack.config.archives.dir, row.file_name);
        expect(res.body).to.deep.equal({
          items: [
            {
              id: row.id,
              organization_id: purged.id,
              file_name: row.file_name,
              status: 'verified',
              size_bytes: Number(row.size_bytes),
              sha256: row.sha256,
              created_at: row.created_at.toISOString(),
              verified_at: row.verified_at.toISOString(),
              restore_command: `npm run org:restore -- --archive ${path}`,
            },
          ],
        });
        expect(await hashFile(path)).to.deep.equal({ sizeBytes: res.body.items[0].size_bytes, sha256: res.body.items[0].sha256 });
      });

      it('when a deleted organization has several archives, then they are listed newest first, a written one too', async () => {
        const org = await createActiveOrganization(stack);
        await deleteOrganization(stack, org.id);
        // Recorded as a purge records them (the files are not needed to list them).
        const record = (fileName: string, status: string, ago: string) =>
          queryControlDatabase(
            stack,
            `INSERT INTO organization_dumps (id, org_id, kind, database_name, file_name, status, size_bytes, sha256, created_at, verified_at)
             VALUES (gen_random_uuid(), $1, 'archive', $2, $3::text, $4::text, 1024, md5($3::text) || md5($3::text), now() - $5::interval, CASE WHEN $4::text = 'verified' THEN now() END)`,
            [org.id, databaseOf(stack, org.id), fileName, status, ago],
          );
        await record(`${org.id}-older.dump`, 'verified', '2 hours');
        await record(`${org.id}-newer.dump`, 'written', '1 hour');
        const res = await stack.request
          .get(`/organizations/${org.id}/archives`)
          .set(await admin())
          .expect(200);
        expect(res.body.items.map((item: { file_name: string; status: string }) => [item.file_name, item.status])).to.deep.equal([
          [`${org.id}-newer.dump`, 'written'],
          [`${org.id}-older.dump`, 'verified'],
        ]);
        expect(res.body.items[0].verified_at).to.equal(null);
      });

      it('when the organization is active (never purged), then the list is empty', async () => {
        const res = await stack.request
          .get(`/organizations/${active.id}/archives`)
          .set(await admin())
          .expect(200);
        expect(res.body).to.deep.equal({ items: [] });
      });

      it('when the organization id is unknown, then it is a 404', async () => {
        await stack.request
          .get(`/organizations/${randomUUID()}/archives`)
          .set(await admin())
          .expect(404);
      });

      it('when an organization admin asks, even for its own organization, then it is a 403; without a token, a 401', async () => {
        const token = await orgLogin(stack, active.id, active.email, active.password);
        await stack.request.get(`/organizations/${active.id}/archives`).set(auth(token)).expect(403);
        await stack.request.get(`/organizations/${active.id}/archives`).expect(401);
      });
    });
  });

  describe('npm run org:restore', () => {
    const restoreCli = (...args: string[]) => runCli(stack, 'restore-organization.ts', args);

    it('when a purged organization is restored from its archive, then a new organization has exactly its users (count and checksum) and its admin can log in', async () => {
      const org = await createActiveOrganization(stack);
      await addUsers(stack, org.id, 200);
      const archived = await usersDigest(stack, org.id);
      await purgeOrganization(stack, org.id);
      const [archive] = await queryControlDatabase<{ file_name: string }>(
        stack,
        `SELECT file_name FROM organization_dumps WHERE kind = 'archive' AND org_id = $1`,
        [org.id],
      );

      const restored = await restoreCli('--archive', join(stack.config.archives.dir, archive.file_name));
      expect(restored.code, restored.stderr).to.equal(0);
      const newId = /organization ([0-9a-f-]{36})/.exec(restored.stdout)?.[1] as string;
      expect(newId).to.not.equal(org.id);
      expect(restored.stdout).to.match(/^active: /m);
      const res = await stack.request
        .get(`/organizations/${newId}`)
        .set(await admin())
        .expect(200);
      expect(res.body).to.include({ status: 'active', name: org.name, admin_email: org.email, database_role: 'own' });
      expect(await usersDigest(stack, newId)).to.deep.equal(archived);
      await orgLogin(stack, newId, org.email, org.password);
    });

    it('when --name or --email is one the API refuses (control character, mixed-script look-alike, not an email), then the command fails with the message the API gives and records nothing', async () => {
      const org = await createActiveOrganization(stack);
      await purgeOrganization(stack, org.id);
      const [archive] = await queryControlDatabase<{ file_name: string }>(
        stack,
        `SELECT file_name FROM organization_dumps WHERE kind = 'archive' AND org_id = $1`,
        [org.id],
      );
      const count = async () =>
        (
          await queryControlDatabase<{ organizations: number; archives: number }>(
            stack,
            `SELECT (SELECT count(*)::int FROM organizations) AS organizations, (SELECT count(*)::int FROM organization_dumps WHERE kind = 'archive') AS archives`,
          )
        )[0];
      const before = await count();

      const refusals: { name: string; email?: string; field: string }[] = [
        { name: `Bell${String.fromCharCode(7)}Corp ${uniqueName()}`, field: 'organization_name' },
        { name: `\u0410cme ${uniqueName()}`, field: 'organization_name' }, // a Cyrillic А before Latin letters
        { name: uniqueName(), email: 'not-an-email', field: 'email' },
      ];
      for (const { name, email, field } of refusals) {
        const api = await stack.request
          .post('/organizations')
          .set(await admin())
          .send({ organization_name: name, email: email ?? 'owner@example.test', password: 'correct horse battery' })
          .expect(400);
        const apiMessage = (api.body.errors as { field: string; message: string }[]).find((e) => e.field === `body.${field}`)?.message;
        expect(apiMessage, name).to.be.a('string');

        const refused = await restoreCli('--archive', join(stack.config.archives.dir, archive.file_name), '--name', name, ...(email ? ['--email', email] : []));
        expect(refused.code, name).to.equal(1);
        expect(refused.stderr, name).to.contain(apiMessage);
      }
      expect(await count()).to.deep.equal(before);
    });

    it('when the name is taken, or the file is not an archive, then the command fails with the reason and records nothing', async () => {
      const org = await createActiveOrganization(stack);
      await purgeOrganization(stack, org.id);
      const [archive] = await queryControlDatabase<{ file_name: string }>(
        stack,
        `SELECT file_name FROM organization_dumps WHERE kind = 'archive' AND org_id = $1`,
        [org.id],
      );
      await createOrganization(stack, { organization_name: org.name });
      const [{ n: before }] = await queryControlDatabase<{ n: number }>(stack, 'SELECT count(*)::int AS n FROM organizations');

      const taken = await restoreCli('--archive', join(stack.config.archives.dir, archive.file_name));
      expect(taken.code).to.equal(1);
      expect(taken.stderr).to.match(/already exists/);
      const notArchive = await restoreCli('--archive', 'package.json');
      expect(notArchive.code).to.equal(1);
      expect(notArchive.stderr).to.match(/not a readable pg_dump archive/);
      const [{ n: after }] = await queryControlDatabase<{ n: number }>(stack, 'SELECT count(*)::int AS n FROM organizations');
      expect(after).to.equal(before);
      expect((await stat(join(stack.config.archives.dir, archive.file_name))).size).to.be.greaterThan(0);
    });
  });
});

describe('The grace period of a deleted organization, by moving the clock', () => {
  let stack: TestStack;
  const clock = new ManualClock();
  before(async () => {
    stack = await startStack({ worker: true, clock });
  });
  after(() => stack?.stop());

  it('when the grace period ends, then the purges-due sweep starts the purge and the organization ends purged with a verified archive', async () => {
    const org = await createActiveOrganization(stack);
    await deleteOrganization(stack, org.id);
    const purgesDue = (stack.worker ?? expect.fail('this suite runs a worker')).sweeps[SWEEPS.purgesDue];
    clock.advance(stack.config.archives.deleteGraceMs - 1000);
    expect((await purgesDue.run()).started, 'still within the grace period').to.deep.equal([]);
    clock.advance(1000);
    expect((await purgesDue.run()).started).to.deep.equal([org.id]);
    await waitForStatus(stack, org.id, ['purged']);
    const [row] = await queryControlDatabase<{ n: number }>(
      stack,
      `SELECT count(*)::int AS n FROM organization_dumps WHERE kind = 'archive' AND org_id = $1 AND status = 'verified'`,
      [org.id],
    );
    expect(row.n).to.equal(1);
    expect(await databaseExists(stack, databaseOf(stack, org.id))).to.equal(false);
  });
});

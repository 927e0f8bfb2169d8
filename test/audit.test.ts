import type { AuditAction } from '@orgms/common/audit/audit-log-store';
import { SWEEPS } from '@orgms/common/queues/registry';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { queryControlDatabase } from './support/control-database';
import { ManualClock } from './support/manual-clock';
import { auth, createActiveOrganization, orgLogin } from './support/org-users';
import { type CreatedOrg, createOrganization, uniqueName } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

interface Entry {
  id: string;
  at: string;
  actor: { kind: string; id: string } | null;
  organization_id: string | null;
  action: string;
  target: { type: string; id: string } | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

describe('Audit log', () => {
  let stack: TestStack;
  let org: CreatedOrg;
  let other: CreatedOrg;
  let adminToken: string;
  let platformAdminId: string;
  let orgAdminToken: string;
  let orgAdminId: string;
  before(async () => {
    stack = await startStack({ worker: true });
    adminToken = await stack.adminToken();
    platformAdminId = (jwt.decode(adminToken) as jwt.JwtPayload).sub as string;
    [org, other] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
    orgAdminToken = await orgLogin(stack, org.id, org.email, org.password);
    orgAdminId = (jwt.decode(orgAdminToken) as jwt.JwtPayload).sub as string;
  });
  after(() => stack.stop());

  /** Every entry the query selects, through all its pages, as a platform admin. */
  async function entries(query: Record<string, string | number> = {}, token = adminToken): Promise<Entry[]> {
    const all: Entry[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Entry[]; next_cursor: string | null } } = await stack.request
        .get('/audit')
        .set(auth(token))
        .query({ ...query, limit: 100, ...(cursor ? { cursor } : {}) })
        .expect(200);
      all.push(...res.body.items);
      cursor = res.body.next_cursor;
    } while (cursor);
    return all;
  }

  it('when a platform admin creates an organization, then "organization.created" names the admin, the organization and the request', async () => {
    const res = await stack.request
      .post('/organizations')
      .set(auth(adminToken))
      .set('X-Request-Id', 'audit-create-request-1')
      .send({ organization_name: uniqueName(), email: 'owner@example.test', password: 'correct horse battery' })
      .expect(202);
    const [entry] = await entries({ organization_id: res.body.id, action: 'organization.created' });
    expect(entry).to.deep.include({
      actor: { kind: 'platform_admin', id: platformAdminId },
      organization_id: res.body.id,
      target: { type: 'organization', id: res.body.id },
      request_id: 'audit-create-request-1',
    });
    expect(entry.details).to.include({ to_status: 'pending' });
  });

  it('when logins succeed and fail, then both are recorded with the account tried, and never the email or the password', async () => {
    await stack.request.post('/admin/login').send({ organization_id: org.id, email: org.email, password: 'a wrong password' }).expect(401);
    await stack.request.post('/admin/login').send({ organization_id: org.id, email: 'nobody@example.test', password: 'another wrong one' }).expect(401);
    await stack.request.post('/admin/login').send({ organization_id: org.id, email: org.email, password: org.password }).expect(200);
    const failed = await entries({ organization_id: org.id, action: 'auth.login.failed' });
    expect(failed.map((e) => e.target)).to.have.deep.members([{ type: 'user', id: orgAdminId }, null]);
    for (const entry of failed) expect(entry.actor).to.equal(null);
    const succeeded = await entries({ organization_id: org.id, action: 'auth.login.succeeded' });
    expect(succeeded[0]).to.deep.include({ actor: { kind: 'org_user', id: orgAdminId }, target: { type: 'user', id: orgAdminId } });
    const text = JSON.stringify(await entries({ organization_id: org.id }));
    for (const secret of [org.password, 'a wrong password', 'another wrong one', 'nobody@example.test']) expect(text).to.not.include(secret);

    await stack.request.post('/auth/login').send({ email: 'root@platform.test', password: 'not the password' }).expect(401);
    const [platformFailure] = await entries({ action: 'auth.login.failed', actor_id: platformAdminId });
    expect(platformFailure, 'an anonymous failure has no actor').to.equal(undefined);
    const [anonymous] = (await entries({ action: 'auth.login.failed' })).filter((e) => e.target?.id === platformAdminId);
    expect(anonymous).to.deep.include({ actor: null, organization_id: null, target: { type: 'platform_admin', id: platformAdminId } });
  });

  it('when an org admin creates, changes and deletes a user, then each change is recorded after it, with what changed and no hash', async () => {
    const created = await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(orgAdminToken))
      .send({ email: 'audited@example.test', password: 'audited user password', role: 'member' })
      .expect(201);
    await stack.request
      .patch(`/organizations/${org.id}/users/${created.body.id}`)
      .set(auth(orgAdminToken))
      .send({ role: 'admin', password: 'a brand new password' })
      .expect(200);
    await stack.request.delete(`/organizations/${org.id}/users/${created.body.id}`).set(auth(orgAdminToken)).expect(204);

    const trail = (await entries({ organization_id: org.id, action: 'user.*' })).filter((e) => e.target?.id === created.body.id);
    expect(trail.map((e) => e.action)).to.deep.equal(['user.deleted', 'user.updated', 'user.created']);
    for (const entry of trail) expect(entry.actor).to.deep.equal({ kind: 'org_user', id: orgAdminId });
    expect(trail[2].details).to.deep.equal({ email: 'audited@example.test', role: 'member', is_active: true });
    expect(trail[1].details).to.deep.equal({ changed: ['role', 'password'], role: 'admin', is_active: true });
    const text = JSON.stringify(trail);
    expect(text).to.not.match(/\$2[aby]\$|audited user password|a brand new password/);
  });

  it('when an organization is renamed, then "organization.renamed" shows the name before and after', async () => {
    const newName = uniqueName('Renamed');
    await stack.request.patch(`/organizations/${other.id}`).set(auth(adminToken)).send({ organization_name: newName }).expect(200);
    const [entry] = await entries({ organization_id: other.id, action: 'organization.renamed' });
    expect(entry.details).to.deep.include({ before: { name: other.name }, after: { name: newName } });
    expect(entry.actor).to.deep.equal({ kind: 'platform_admin', id: platformAdminId });
  });

  it('when a change is refused, then nothing is recorded; when an organization is deleted, then "organization.deleted" is', async () => {
    const taken = await stack.request.patch(`/organizations/${other.id}`).set(auth(adminToken)).send({ organization_name: org.name }).expect(409);
    expect(taken.type).to.equal('application/problem+json');
    const renames = await entries({ organization_id: other.id, action: 'organization.renamed' });
    expect(renames.map((e) => e.details.after)).to.not.deep.include({ name: org.name });

    const doomed = await createActiveOrganization(stack);
    await stack.request.delete(`/organizations/${doomed.id}`).set(auth(adminToken)).set('X-Request-Id', 'audit-delete-request-1').expect(200);
    const [entry] = await entries({ organization_id: doomed.id, action: 'organization.deleted' });
    expect(entry).to.deep.include({ actor: { kind: 'platform_admin', id: platformAdminId }, request_id: 'audit-delete-request-1' });
    expect(entry.details).to.include({ from_status: 'active' });
  });

  it('when a platform admin registers another, then "platform_admin.created" names both; an operator command is recorded without an actor', async () => {
    const res = await stack.request
      .post('/auth/register')
      .set(auth(adminToken))
      .send({ email: 'second-admin@platform.test', password: 'second admin password' })
      .expect(201);
    const [created] = (await entries({ action: 'platform_admin.created' })).filter((e) => e.target?.id === res.body.id);
    expect(created).to.deep.include({
      actor: { kind: 'platform_admin', id: platformAdminId },
      organization_id: null,
      details: { email: 'second-admin@platform.test' },
    });

    // What `npm run admin:password` and `admin:remove` do: no request, so no actor.
    await stack.api.stores.platformAdmins.changePassword('second-admin@platform.test', 'a newer admin password', 4);
    await stack.api.stores.platformAdmins.remove('second-admin@platform.test');
    const trail = (await entries({ action: 'platform_admin.*' })).filter((e) => e.target?.id === res.body.id);
    expect(trail.map((e) => [e.action, e.actor, e.details])).to.deep.equal([
      ['platform_admin.deleted', null, { email: 'second-admin@platform.test' }],
      ['platform_admin.updated', null, { changed: ['password'] }],
      ['platform_admin.created', { kind: 'platform_admin', id: platformAdminId }, { email: 'second-admin@platform.test' }],
    ]);
  });

  it('when a platform admin registers, changes, rotates and deletes a webhook endpoint, then each is recorded with where it points, never its secret', async () => {
    const created = await stack.request
      .post('/webhooks')
      .set(auth(adminToken))
      .send({ url: 'https://93.184.216.34/hooks/receiver-credential?key=receiver-key', events: ['organization.purged'] })
      .expect(201);
    const { id, secret } = created.body;
    await stack.request.patch(`/webhooks/${id}`).set(auth(adminToken)).send({ description: 'Billing' }).expect(200);
    const rotated = await stack.request.post(`/webhooks/${id}/rotate-secret`).set(auth(adminToken)).expect(200);
    await stack.request.delete(`/webhooks/${id}`).set(auth(adminToken)).expect(204);

    const trail = (await entries({ action: 'webhook.*' })).filter((e) => e.target?.id === id);
    expect(trail.map((e) => e.action)).to.deep.equal(['webhook.deleted', 'webhook.secret_rotated', 'webhook.updated', 'webhook.created']);
    for (const entry of trail) expect(entry).to.deep.include({ actor: { kind: 'platform_admin', id: platformAdminId }, organization_id: null });
    expect(trail[3].details).to.deep.equal({ url: 'https://93.184.216.34', events: ['organization.purged'] });
    expect(trail[2].details).to.deep.include({ changed: ['description'] });
    const text = JSON.stringify(trail);
    for (const hidden of [secret, rotated.body.secret, 'receiver-credential', 'receiver-key']) expect(text).to.not.include(hidden);
  });

  it('when pages are read with a cursor, then they go newest first without gaps or repeats, and filters by time bound them', async () => {
    const all = await entries({ organization_id: org.id });
    expect(all.length).to.be.greaterThan(4);
    const paged: Entry[] = [];
    let cursor: string | undefined;
    for (;;) {
      const res = await stack.request
        .get('/audit')
        .set(auth(adminToken))
        .query({ organization_id: org.id, limit: 2, ...(cursor ? { cursor } : {}) })
        .expect(200);
      paged.push(...res.body.items);
      if (!res.body.next_cursor) break;
      cursor = res.body.next_cursor;
    }
    expect(paged.map((e) => e.id)).to.deep.equal(all.map((e) => e.id));
    const times = all.map((e) => Date.parse(e.at));
    expect(times).to.deep.equal([...times].sort((a, b) => b - a));

    const middle = all[Math.floor(all.length / 2)];
    const before = await entries({ organization_id: org.id, to: middle.at });
    const since = await entries({ organization_id: org.id, from: middle.at });
    expect(before.length + since.length).to.equal(all.length);
    for (const entry of before) expect(Date.parse(entry.at)).to.be.lessThan(Date.parse(middle.at));
    await stack.request.get('/audit').set(auth(adminToken)).query({ cursor: 'not-a-cursor' }).expect(400);
    await stack.request.get('/audit').set(auth(adminToken)).query({ action: 'DROP TABLE' }).expect(400);
  });

  it("when an org admin reads the log, then it sees only its own organization's entries; another organization's is a 404", async () => {
    const own = await entries({}, orgAdminToken);
    expect(own.length).to.be.greaterThan(0);
    for (const entry of own) expect(entry.organization_id).to.equal(org.id);
    const named = await entries({ organization_id: org.id }, orgAdminToken);
    expect(named.map((e) => e.id)).to.deep.equal(own.map((e) => e.id));
    await stack.request.get('/audit').set(auth(orgAdminToken)).query({ organization_id: other.id }).expect(404);
  });

  it('when a member or an anonymous caller reads the log, then it answers 403 or 401', async () => {
    await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(orgAdminToken))
      .send({ email: 'reader@example.test', password: 'reader password' })
      .expect(201);
    const memberToken = await orgLogin(stack, org.id, 'reader@example.test', 'reader password');
    await stack.request.get('/audit').set(auth(memberToken)).expect(403);
    await stack.request.get('/audit').expect(401);
  });

  it('when a session logs out, then "auth.logout" names its account; no entry anywhere holds a token', async () => {
    const login = await stack.request.post('/admin/login').send({ organization_id: org.id, email: org.email, password: org.password }).expect(200);
    await stack.request.post('/auth/logout').send({ refresh_token: login.body.refresh_token }).expect(204);
    const [entry] = await entries({ organization_id: org.id, action: 'auth.logout' });
    expect(entry).to.deep.include({ actor: { kind: 'org_user', id: orgAdminId }, target: { type: 'user', id: orgAdminId } });
    const text = JSON.stringify(await entries());
    expect(text).to.not.include(login.body.refresh_token);
    expect(text).to.not.include(login.body.access_token);
  });

  it('when the details a caller writes name a secret, then the store drops them', async () => {
    await stack.api.stores.auditLog.record({
      action: 'user.updated',
      orgId: other.id,
      actor: null,
      details: { changed: ['password'], password: 'p', nested: { refresh_token: 't', password_hash: 'h', kept: 1 } },
    });
    const [entry] = await entries({ organization_id: other.id, action: 'user.updated' });
    expect(entry.details).to.deep.equal({ changed: ['password'], nested: { kept: 1 } });
  });
});

describe('Audit log of retries', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  it('when a platform admin retries a failed organization, then "organization.retried" records it, from failed to provisioning', async () => {
    const adminToken = await stack.adminToken();
    const org = await createOrganization(stack);
    // No worker runs here: the organization fails as a worker would record it.
    await stack.api.stores.organizations.transition(org.id, 'provisioning');
    await stack.api.stores.organizations.transition(org.id, 'failed', { detail: 'create_database: out of disk' });
    await stack.request.post(`/organizations/${org.id}/retry`).set(auth(adminToken)).set('X-Request-Id', 'audit-retry-request-1').expect(202);
    const res = await stack.request.get('/audit').set(auth(adminToken)).query({ organization_id: org.id, action: 'organization.retried' }).expect(200);
    expect(res.body.items).to.have.length(1);
    expect(res.body.items[0]).to.deep.include({ request_id: 'audit-retry-request-1', target: { type: 'organization', id: org.id } });
    expect(res.body.items[0].details).to.include({ from_status: 'failed', to_status: 'provisioning' });
    // The worker's own changes are not a caller's: they stay in the organization's events only.
    const all = await stack.request.get('/audit').set(auth(adminToken)).query({ organization_id: org.id }).expect(200);
    expect(all.body.items.map((e: { action: string }) => e.action)).to.deep.equal(['organization.retried', 'organization.created']);
  });
});

describe('Audit log retention (AUDIT_RETENTION_DAYS)', () => {
  const DAY_MS = 24 * 3600 * 1000;
  const clock = new ManualClock();
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: true, env: { AUDIT_RETENTION_DAYS: '30' }, clock });
  });
  after(() => stack?.stop());

  const record = (action: string) => stack.api.stores.auditLog.record({ action: action as AuditAction, actor: null });
  const actions = async () =>
    (await queryControlDatabase<{ action: string }>(stack, `SELECT action FROM audit_log WHERE starts_with(action, 'retention.') ORDER BY action`)).map(
      (row) => row.action,
    );

  it('when entries are older than the retention, then the audit-retention sweep deletes them and keeps the younger ones', async () => {
    const auditRetention = (stack.worker ?? expect.fail('this suite runs a worker')).sweeps[SWEEPS.auditRetention];
    await record('retention.old');
    clock.advance(14 * DAY_MS);
    await record('retention.just-past');
    clock.advance(2 * DAY_MS);
    await record('retention.kept');
    clock.advance(29 * DAY_MS); // now they are 45, 31 and 29 days old
    await auditRetention.run();
    expect(await actions()).to.deep.equal(['retention.kept']);
  });
});

import { createHash } from 'node:crypto';
import { SWEEPS } from '@orgms/common/queues/registry';
import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { ManualClock } from './support/manual-clock';
import { auth, createActiveOrganization, orgLogin } from './support/org-users';
import type { CreatedOrg } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

const THIRTY_DAYS = 30 * 24 * 3600;

describe('Refresh tokens', () => {
  let stack: TestStack;
  let counter = 0;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  /** A fresh platform admin, logged in. */
  async function adminSession(): Promise<{ email: string; password: string; login: { access_token: string; refresh_token: string } }> {
    counter += 1;
    const admin = { email: `refreshing-${counter}@platform.test`, password: 'a long admin password' };
    await stack.api.stores.platformAdmins.create(admin.email, admin.password, 4);
    const res = await stack.request.post('/auth/login').send(admin).expect(200);
    return { ...admin, login: res.body };
  }

  const refresh = (refreshToken: string, status: number) => stack.request.post('/auth/refresh').send({ refresh_token: refreshToken }).expect(status);

  it('when a platform admin logs in, then it gets a 15-minute access token and a 30-day refresh token, stored only as its SHA-256', async () => {
    const { login } = await adminSession();
    expect(login).to.include({ token_type: 'bearer', expires_in: 900, refresh_expires_in: THIRTY_DAYS });
    expect(login.refresh_token).to.match(/^[A-Za-z0-9_-]{43}$/);
    const hash = createHash('sha256').update(login.refresh_token).digest('hex');
    const rows = await queryControlDatabase(stack, 'SELECT token_hash FROM refresh_tokens WHERE token_hash = $1', [hash]);
    expect(rows).to.have.length(1);
    const stored = await queryControlDatabase(stack, 'SELECT count(*)::int AS n FROM refresh_tokens WHERE token_hash = $1', [login.refresh_token]);
    expect(stored[0].n, 'the token text itself is nowhere').to.equal(0);
  });

  it('when the refresh token is traded, then a new pair comes back, the new access token works and each refresh token is new', async () => {
    const { login, email } = await adminSession();
    const first = await refresh(login.refresh_token, 200);
    expect(first.body).to.include({ token_type: 'bearer', expires_in: 900, refresh_expires_in: THIRTY_DAYS });
    expect(first.body.user).to.include({ email, role: 'platform_admin' });
    expect(first.body.refresh_token).to.not.equal(login.refresh_token);
    await stack.request.get('/organizations').set(auth(first.body.access_token)).expect(200);
    const second = await refresh(first.body.refresh_token, 200);
    expect(second.body.refresh_token).to.not.equal(first.body.refresh_token);
  });

  it('when a refresh token that was already traded comes back, then it answers 401 and the whole family is revoked, the newest token too', async () => {
    const { login } = await adminSession();
    const traded = await refresh(login.refresh_token, 200);
    const replay = await refresh(login.refresh_token, 401);
    expect(replay.type).to.equal('application/problem+json');
    await refresh(traded.body.refresh_token, 401);
    // Another login is another family, untouched.
    const other = await stack.request
      .post('/auth/login')
      .send({ email: `refreshing-${counter}@platform.test`, password: 'a long admin password' })
      .expect(200);
    await refresh(other.body.refresh_token, 200);
    const entries = await queryControlDatabase(stack, `SELECT actor_id, target_id FROM audit_log WHERE action = 'auth.refresh.reused' AND target_id = $1`, [
      traded.body.user.id,
    ]);
    expect(entries).to.deep.equal([{ actor_id: null, target_id: traded.body.user.id }]);
  });

  /** The refresh token reuses counted so far, by occurrence. */
  async function reuseCounts(): Promise<{ first: number; repeated: number }> {
    const text = (await stack.request.get('/metrics').expect(200)).text;
    const count = (occurrence: string) =>
      Number(new RegExp(`^orgms_refresh_token_reuse_total\\{occurrence="${occurrence}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { first: count('first'), repeated: count('repeated') };
  }

  it('when a traded refresh token is replayed by many requests at once, then exactly one auth.refresh.reused entry is written and every replay is counted', async () => {
    const { login } = await adminSession();
    const traded = await refresh(login.refresh_token, 200);
    const before = await reuseCounts();
    const replays = await Promise.all(Array.from({ length: 20 }, () => stack.request.post('/auth/refresh').send({ refresh_token: login.refresh_token })));
    expect(replays.map((res) => res.status)).to.deep.equal(Array(20).fill(401));
    const entries = await queryControlDatabase(stack, `SELECT id FROM audit_log WHERE action = 'auth.refresh.reused' AND target_id = $1`, [
      traded.body.user.id,
    ]);
    expect(entries).to.have.length(1);
    // A later replay, once the family has ended, is counted too, and still not audited again.
    await refresh(login.refresh_token, 401);
    const after = await reuseCounts();
    expect({ first: after.first - before.first, repeated: after.repeated - before.repeated }).to.deep.equal({ first: 1, repeated: 20 });
  });

  it('when two requests trade the same refresh token at once, then only one gets a pair, and the family ends', async () => {
    const { login } = await adminSession();
    const answers = await Promise.all([1, 2].map(() => stack.request.post('/auth/refresh').send({ refresh_token: login.refresh_token })));
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).to.deep.equal([200, 401]);
    const winner = answers.find((res) => res.status === 200);
    await refresh(winner?.body.refresh_token, 401);
  });

  it('when the session logs out, then its refresh token is refused, and logging out again or with an unknown token is still 204', async () => {
    const { login } = await adminSession();
    const traded = await refresh(login.refresh_token, 200);
    await stack.request.post('/auth/logout').send({ refresh_token: traded.body.refresh_token }).expect(204);
    await refresh(traded.body.refresh_token, 401);
    await stack.request.post('/auth/logout').send({ refresh_token: traded.body.refresh_token }).expect(204);
    await stack.request.post('/auth/logout').send({ refresh_token: 'never-issued-token' }).expect(204);
    await stack.request.post('/auth/logout').send({ refresh_token: 'not a token!' }).expect(400);
    await stack.request.post('/auth/refresh').send({}).expect(400);
  });

  it("when a platform admin's password changes, or it is deactivated, or removed, then its refresh tokens are refused", async () => {
    const changed = await adminSession();
    await stack.api.stores.platformAdmins.changePassword(changed.email, 'the new admin password', 4);
    await refresh(changed.login.refresh_token, 401);

    const deactivated = await adminSession();
    await stack.api.stores.platformAdmins.deactivate(deactivated.email);
    await refresh(deactivated.login.refresh_token, 401);
    // Activation does not bring the old session back.
    await stack.api.stores.platformAdmins.activate(deactivated.email);
    await refresh(deactivated.login.refresh_token, 401);

    const removed = await adminSession();
    await stack.api.stores.platformAdmins.remove(removed.email);
    await refresh(removed.login.refresh_token, 401);
  });

  it('when the refresh token is unknown, then it answers 401 like any other refused token', async () => {
    const res = await refresh('q3Xh0m9pB1d2Vx7yZ4kLw8sT6uR5eN0aC3fG1hJ2iK4', 401);
    expect(res.body.detail).to.match(/log in again/);
  });
});

describe('Refresh tokens of organization users', () => {
  let stack: TestStack;
  let org: CreatedOrg;
  let adminToken: string;
  before(async () => {
    stack = await startStack({ worker: true });
    org = await createActiveOrganization(stack);
    adminToken = await orgLogin(stack, org.id, org.email, org.password);
  });
  after(() => stack.stop());

  let counter = 0;
  /** A new member of the organization, logged in. */
  async function memberSession(): Promise<{ id: string; login: { access_token: string; refresh_token: string } }> {
    counter += 1;
    const member = { email: `member-${counter}@acme.test`, password: 'member password' };
    const created = await stack.request.post(`/organizations/${org.id}/users`).set(auth(adminToken)).send(member).expect(201);
    const res = await stack.request
      .post('/admin/login')
      .send({ organization_id: org.id, ...member })
      .expect(200);
    return { id: created.body.id, login: res.body };
  }

  const refresh = (refreshToken: string, status: number) => stack.request.post('/auth/refresh').send({ refresh_token: refreshToken }).expect(status);

  it('when an organization user trades its refresh token, then the new access token is its own, with its organization and role', async () => {
    const login = await stack.request.post('/admin/login').send({ organization_id: org.id, email: org.email, password: org.password }).expect(200);
    expect(login.body).to.include({ expires_in: 900, refresh_expires_in: THIRTY_DAYS });
    const traded = await refresh(login.body.refresh_token, 200);
    expect(traded.body.user).to.include({ email: org.email, role: 'admin', organization_id: org.id });
    const me = await stack.request.get('/me').set(auth(traded.body.access_token)).expect(200);
    expect(me.body.organization).to.include({ id: org.id });
    await refresh(login.body.refresh_token, 401);
    await refresh(traded.body.refresh_token, 401);
  });

  it("when the user's password changes, it is deactivated or removed, then its refresh tokens are refused", async () => {
    const changed = await memberSession();
    await stack.request.patch(`/organizations/${org.id}/users/${changed.id}`).set(auth(adminToken)).send({ password: 'another member password' }).expect(200);
    await refresh(changed.login.refresh_token, 401);

    const deactivated = await memberSession();
    await stack.request.patch(`/organizations/${org.id}/users/${deactivated.id}`).set(auth(adminToken)).send({ is_active: false }).expect(200);
    await refresh(deactivated.login.refresh_token, 401);

    const removed = await memberSession();
    await stack.request.delete(`/organizations/${org.id}/users/${removed.id}`).set(auth(adminToken)).expect(204);
    await refresh(removed.login.refresh_token, 401);

    const untouched = await memberSession();
    await refresh(untouched.login.refresh_token, 200);
  });

  it('when the organization is deleted, then its users cannot refresh, and a restore does not bring their sessions back', async () => {
    const doomed = await createActiveOrganization(stack);
    const login = await stack.request.post('/admin/login').send({ organization_id: doomed.id, email: doomed.email, password: doomed.password }).expect(200);
    const platformAdmin = await stack.adminToken();
    await stack.request.delete(`/organizations/${doomed.id}`).set(auth(platformAdmin)).expect(200);
    await refresh(login.body.refresh_token, 401);
    await stack.request.post(`/organizations/${doomed.id}/restore`).set(auth(platformAdmin)).send({}).expect(200);
    await refresh(login.body.refresh_token, 401);
    await stack.request.post('/admin/login').send({ organization_id: doomed.id, email: doomed.email, password: doomed.password }).expect(200);
  });

  it('when the organization is deleted and restored, then refresh and access tokens issued before the delete stay refused, and a new login works', async () => {
    const doomed = await createActiveOrganization(stack);
    const login = await stack.request.post('/admin/login').send({ organization_id: doomed.id, email: doomed.email, password: doomed.password }).expect(200);
    const old = auth(login.body.access_token);
    await stack.request.get('/me').set(old).expect(200);
    const platformAdmin = await stack.adminToken();
    await stack.request.delete(`/organizations/${doomed.id}`).set(auth(platformAdmin)).expect(200);
    const live = await queryControlDatabase(stack, 'SELECT id FROM refresh_tokens WHERE org_id = $1 AND revoked_at IS NULL', [doomed.id]);
    expect(live, 'the delete revoked every refresh token of the organization').to.deep.equal([]);
    await stack.request.post(`/organizations/${doomed.id}/restore`).set(auth(platformAdmin)).send({}).expect(200);

    await refresh(login.body.refresh_token, 401);
    for (const path of ['/me', `/organizations/${doomed.id}`, `/organizations/${doomed.id}/users`, '/org/get', '/user/list']) {
      const res = await stack.request.get(path).set(old);
      expect(res.status, path).to.equal(401);
      expect(res.type, path).to.equal('application/problem+json');
    }

    const again = await stack.request.post('/admin/login').send({ organization_id: doomed.id, email: doomed.email, password: doomed.password }).expect(200);
    await stack.request.get('/me').set(auth(again.body.access_token)).expect(200);
    await stack.request.get('/org/get').set(auth(again.body.access_token)).expect(200);
    await refresh(again.body.refresh_token, 200);
  });

  it('when a refresh token was written under the session generation before a delete (a refresh racing the delete), then after the restore it is refused', async () => {
    const doomed = await createActiveOrganization(stack);
    const login = await stack.request.post('/admin/login').send({ organization_id: doomed.id, email: doomed.email, password: doomed.password }).expect(200);
    const subject = { kind: 'org_user' as const, id: login.body.user.id as string, orgId: doomed.id };
    const platformAdmin = await stack.adminToken();
    await stack.request.delete(`/organizations/${doomed.id}`).set(auth(platformAdmin)).expect(200);
    // What a rotation that read the organization before the delete and committed after it leaves behind.
    const straggler = await stack.api.stores.refreshTokens.issue(subject, { tokenVersion: 0, sessionGeneration: 0 }, 3600);
    await stack.request.post(`/organizations/${doomed.id}/restore`).set(auth(platformAdmin)).send({}).expect(200);
    await refresh(straggler, 401);
    const current = await stack.api.stores.refreshTokens.issue(subject, { tokenVersion: 0, sessionGeneration: 1 }, 3600);
    await refresh(current, 200);
  });

  it('when an organization user refreshes, then a deleted organization answers 401 and a provisioning or failed one 409 with organization_status, as the document says', async () => {
    const org2 = await createActiveOrganization(stack);
    const login = await stack.request.post('/admin/login').send({ organization_id: org2.id, email: org2.email, password: org2.password }).expect(200);
    for (const status of ['failed', 'provisioning']) {
      await queryControlDatabase(stack, 'UPDATE organizations SET status = $2 WHERE id = $1', [org2.id, status]);
      const refused = await refresh(login.body.refresh_token, 409);
      expect(refused.type).to.equal('application/problem+json');
      expect(refused.body.organization_status).to.equal(status);
    }
    await queryControlDatabase(stack, `UPDATE organizations SET status = 'active' WHERE id = $1`, [org2.id]);
    const platformAdmin = await stack.adminToken();
    await stack.request.delete(`/organizations/${org2.id}`).set(auth(platformAdmin)).expect(200);
    const gone = await refresh(login.body.refresh_token, 401);
    expect(gone.type).to.equal('application/problem+json');

    const document = (await stack.request.get('/openapi.json').expect(200)).body;
    const answer = (status: string) => {
      const response = document.paths['/auth/refresh'].post.responses[status];
      return response.$ref ? document.components.responses[response.$ref.split('/').pop()] : response;
    };
    const responses = { '401': answer('401'), '409': answer('409') };
    expect(responses['401'].description).to.match(/deleted/);
    expect(responses['409'].description)
      .to.match(/provisioning/)
      .and.to.match(/failed/);
    expect(responses['409'].description).to.not.match(/deleted/);
  });
});

describe('Refresh tokens expire', () => {
  const clock = new ManualClock();
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: true, env: { REFRESH_TOKEN_TTL: '1h' }, clock });
  });
  after(() => stack.stop());
  const login = () => stack.request.post('/auth/login').send({ email: 'root@platform.test', password: 'platform-admin-password' }).expect(200);

  it('when REFRESH_TOKEN_TTL has passed, then the refresh token is refused', async () => {
    const { body } = await login();
    expect(body.refresh_expires_in).to.equal(3600);
    clock.advance(3600 * 1000 - 1000);
    const refreshed = await stack.request.post('/auth/refresh').send({ refresh_token: body.refresh_token }).expect(200);
    clock.advance(3600 * 1000);
    await stack.request.post('/auth/refresh').send({ refresh_token: refreshed.body.refresh_token }).expect(401);
  });

  it('when the expired-refresh-tokens sweep runs, then expired refresh tokens are deleted and live ones kept', async () => {
    const expired = await login();
    clock.advance(3600 * 1000);
    const live = await stack.api.stores.refreshTokens.issue(
      { kind: 'platform_admin', id: expired.body.user.id },
      { tokenVersion: 0, sessionGeneration: 0 },
      3600,
    );
    await (stack.worker as NonNullable<TestStack['worker']>).sweeps[SWEEPS.expiredRefreshTokens].run();
    const rows = await queryControlDatabase<{ token_hash: string }>(stack, 'SELECT token_hash FROM refresh_tokens');
    expect(rows).to.deep.equal([{ token_hash: createHash('sha256').update(live).digest('hex') }]);
  });
});

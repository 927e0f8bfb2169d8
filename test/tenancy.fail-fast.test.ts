import { withDatabase } from '@orgms/common/database/database-urls';
import { expect } from 'chai';
import { Client } from 'pg';
import { databaseOf } from './support/org-databases';
import { auth, createActiveOrganization, orgLogin } from './support/org-users';
import { startStack, type TestStack } from './support/stack';

describe('An organization whose database is locked fails fast for itself', function () {
  this.timeout(60000);
  let stack: TestStack;

  before(async () => {
    stack = await startStack({ worker: true, env: { TENANT_POOL_SIZE: '2', TENANT_ACQUIRE_TIMEOUT_MS: '1000' } });
  });
  after(() => stack?.stop());

  it("when an organization's users table is locked, then its reads beyond its pool answer 503 organization-database-busy with Retry-After within the bounded wait, while another organization reads promptly", async () => {
    const [locked, quiet] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
    const [lockedToken, quietToken] = await Promise.all([
      orgLogin(stack, locked.id, locked.email, locked.password),
      orgLogin(stack, quiet.id, quiet.email, quiet.password),
    ]);
    const readUsers = (orgId: string, token: string) => stack.request.get(`/organizations/${orgId}/users`).set(auth(token));

    const side = new Client({ connectionString: withDatabase(stack.config.tenancy.serverUrl, databaseOf(stack, locked.id)) });
    await side.connect();
    try {
      await side.query('BEGIN');
      await side.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      // Two reads take the pool's two connections and wait on the lock; the others wait for a turn.
      const lockedReads = Array.from({ length: 5 }, () => readUsers(locked.id, lockedToken).then((res) => ({ res, ms: Date.now() - started })));
      for (let i = 0; i < 5; i += 1) {
        const t = Date.now();
        await readUsers(quiet.id, quietToken).expect(200);
        expect(Date.now() - t, 'a quiet organization read').to.be.below(500);
      }
      const settled = await Promise.race([Promise.all(lockedReads.slice(2)), new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 4000))]);
      expect(settled, 'the waiting reads answer within the bounded wait').to.not.equal('stuck');
      for (const { res, ms } of settled as { res: { status: number; headers: Record<string, string>; body: { type: string } }; ms: number }[]) {
        expect(res.status).to.equal(503);
        expect(res.body.type).to.match(/organization-database-busy$/);
        expect(Number(res.headers['retry-after'])).to.be.at.least(1);
        expect(ms).to.be.below(2500);
      }
      await side.query('ROLLBACK');
      for (const { res } of await Promise.all(lockedReads.slice(0, 2))) expect(res.status).to.equal(200);
      await readUsers(locked.id, lockedToken).expect(200);
    } finally {
      await side.end();
    }
  });
});

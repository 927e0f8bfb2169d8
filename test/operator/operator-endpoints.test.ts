import { expect } from 'chai';
import { createOrganization, waitForStatus } from '../support/organizations';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from '../support/stack';

const basic = (email: string, password: string) => `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;

describe('Operator endpoints', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: true });
  });
  after(() => stack.stop());

  it('when a platform admin opens Bull Board by Basic auth or bearer token, then it lists every queue', async () => {
    await stack.request.get('/admin/queues').set('Authorization', basic(ADMIN_EMAIL, ADMIN_PASSWORD)).expect(200);
    const res = await stack.request
      .get('/admin/queues/api/queues')
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .expect(200);
    expect(res.body.queues.map((q: { name: string }) => q.name)).to.include.members(['provisioning', 'maintenance']);
  });

  it('when anyone else opens Bull Board, then 401 with WWW-Authenticate so a browser prompts', async () => {
    for (const auth of [undefined, basic(ADMIN_EMAIL, 'wrong password'), basic('nobody@x.test', 'whatever1'), 'Bearer forged.token.here']) {
      const req = stack.request.get('/admin/queues');
      if (auth) req.set('Authorization', auth);
      const res = await req.expect(401);
      expect(res.headers['www-authenticate']).to.match(/^Basic realm=/);
      expect(res.type).to.equal('application/problem+json');
    }
  });

  it('when an organization was provisioned, then /metrics shows request durations, orgs by status, jobs by queue and state, the oldest waiting job, the fleet, tenant pools and process metrics', async () => {
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    // One tenant query, so this process holds pools on the organization's server.
    await stack.api.tenantPools.read(await stack.api.stores.organizations.get(org.id), (db) => db.query('SELECT 1'));
    const res = await stack.request.get('/metrics').expect(200);
    expect(res.text).to.match(/orgms_http_request_duration_seconds_bucket\{[^}]*route="\/organizations\/:id\/status"/);
    expect(res.text).to.match(/orgms_organizations\{status="active"\} [1-9]/);
    expect(res.text).to.match(/orgms_jobs\{queue="provisioning",state="completed"\} [1-9]/);
    expect(res.text).to.match(/orgms_tenant_connections\{server="default",kind="budget"\} 40/);
    expect(res.text).to.match(/orgms_queue_oldest_waiting_seconds\{queue="provisioning"\} 0\n/);
    expect(res.text).to.match(/orgms_database_server_capacity\{server="default",status="active"\} [1-9]/);
    expect(res.text).to.match(/orgms_database_server_organizations\{server="default",status="active"\} [1-9]/);
    expect(res.text).to.include('process_cpu_user_seconds_total');
  });

  it('when the docs are requested, then the spec, Swagger UI and ReDoc (served locally) answer', async () => {
    const spec = await stack.request.get('/openapi.json').expect(200);
    expect(spec.body.openapi).to.equal('3.1.0');
    await stack.request.get('/docs/').expect(200).expect('Content-Type', /html/);
    const redoc = await stack.request.get('/redoc').expect(200);
    expect(redoc.text)
      .to.include('/redoc/assets/redoc.standalone.js')
      .and.not.match(/https?:\/\//);
    await stack.request.get('/redoc/assets/redoc.standalone.js').expect(200);
  });
});

import { expect } from 'chai';
import { startApi, startWorker } from '../../harness/built-service';
import { controlQuery, freePort, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import { ApiClient, assertProvisionedExactlyOnce, endFaultTest, orgDatabases, waitForStatuses } from '../support/service-processes';

describe('Fault: concurrent identical creates', function () {
  this.timeout(60000);
  let fe: ServiceEnv | undefined;

  afterEach(async function () {
    await endFaultTest(this.currentTest, fe);
  });

  it('when the same organization is requested many times at once (two API replicas, both routes, case and spacing variants), then exactly one org and one database exist', async () => {
    fe = await isolatedServiceEnv({ WORKER_CONCURRENCY: '4' });
    const env = fe;
    await startApi(env);
    // A second API replica on another port, sharing the control database and the queue.
    const port2 = await freePort();
    await startApi({ ...env, env: { ...env.env, PORT: String(port2) }, baseUrl: `http://127.0.0.1:${port2}` }, {}, 'api-2');
    await startWorker(env);
    const replicas = [new ApiClient(env.baseUrl), new ApiClient(`http://127.0.0.1:${port2}`)];
    await Promise.all(replicas.map((r) => r.adminToken()));

    const name = `Concurrent Corp ${env.id}`;
    const variants = [name, name, name, name, name.toUpperCase(), name.toLowerCase(), `  ${name}  `];
    const body = (organization_name: string) => ({ organization_name, email: 'owner@faults.test', password: 'correct horse battery' });
    const requests = Array.from({ length: 24 }, (_, i) => {
      const api = replicas[i % 2];
      const path = i % 3 === 2 ? '/org/create' : '/organizations';
      return api.request('POST', path, { body: body(variants[i % variants.length]) });
    });
    const answers = await Promise.all(requests);

    const accepted = answers.filter((a) => a.status >= 200 && a.status < 300);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(
      answers.map((a) => a.status).filter((s) => s !== 409 && (s < 200 || s >= 300)),
      'only one success and 409s',
    ).to.deep.equal([]);
    expect(accepted, 'exactly one create succeeded').to.have.length(1);
    expect(conflicts).to.have.length(answers.length - 1);
    for (const conflict of conflicts) expect(conflict.headers.get('content-type')).to.match(/^application\/problem\+json/);

    const rows = await controlQuery<{ id: string; name: string }>(env, 'SELECT id, name FROM organizations');
    expect(rows, 'one organization row').to.have.length(1);
    const id = rows[0].id;
    expect(accepted[0].body.id).to.equal(id);
    await waitForStatuses(env, [id], ['active', 'failed'], 20000);
    expect((await replicas[0].status(id)).status).to.equal('active');
    await assertProvisionedExactlyOnce(env, [id]);
    const databases = (await orgDatabases(env)).filter((d) => d.datname !== `${env.orgPrefix}template`);
    expect(databases).to.have.length(1);
  });
});

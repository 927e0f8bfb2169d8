import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitForOrganization } from '@orgms/client';
import { expect } from 'chai';
import { contractCheckedClient } from './support/checked-client';
import { uniqueName } from './support/organizations';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from './support/stack';

/**
 * The main flow walked through the typed client (@orgms/client, generated from /openapi.json)
 * against a real listening API and worker, as a user of the package would: every request and
 * answer is typed by the document, and every answer is also checked against it.
 */
describe('typed client (@orgms/client) end to end', () => {
  let stack: TestStack;
  let server: Server;
  let baseUrl: string;

  before(async () => {
    stack = await startStack({ worker: true });
    server = stack.api.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await stack.stop();
  });

  it('when a platform admin creates an organization and its admin adds users, then every step answers as the document says', async () => {
    const anonymous = contractCheckedClient(baseUrl);

    const login = await anonymous.POST('/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    expect(login.error).to.equal(undefined);
    const platformAdmin = contractCheckedClient(baseUrl, login.data?.access_token);

    const name = uniqueName('Client Corp');
    const created = await platformAdmin.POST('/organizations', {
      body: { organization_name: name, email: 'owner@client.test', password: 'correct horse battery' },
    });
    expect(created.response.status).to.equal(202);
    expect(created.response.headers.get('location')).to.equal(`/organizations/${created.data?.id}`);
    const orgId = created.data?.id ?? '';
    expect(created.data?.status).to.equal('pending');

    const settled = await waitForOrganization(platformAdmin, orgId, { timeoutMs: 20_000 });
    expect(settled.status).to.equal('active');

    const orgLogin = await anonymous.POST('/admin/login', {
      body: { organization_name: name, email: 'owner@client.test', password: 'correct horse battery' },
    });
    expect(orgLogin.data?.user).to.include({ email: 'owner@client.test', role: 'admin', organization_id: orgId });
    const orgAdmin = contractCheckedClient(baseUrl, orgLogin.data?.access_token);

    const alice = await orgAdmin.POST('/organizations/{id}/users', {
      params: { path: { id: orgId } },
      body: { email: 'alice@client.test', password: 'alice password', role: 'member', is_active: true },
    });
    expect(alice.response.status).to.equal(201);
    expect(alice.data).to.include({ email: 'alice@client.test', role: 'member', is_active: true, last_login_at: null });

    const page = await orgAdmin.GET('/organizations/{id}/users', { params: { path: { id: orgId }, query: { limit: 10 } } });
    expect(page.data?.items.map((user) => user.email).sort()).to.deep.equal(['alice@client.test', 'owner@client.test']);
    expect(page.data?.next_cursor).to.equal(null);
  });

  it('when a request is refused, then the typed error is the problem the document describes', async () => {
    const anonymous = contractCheckedClient(baseUrl);
    const refused = await anonymous.POST('/auth/login', { body: { email: 'nobody@client.test', password: 'wrong password' } });
    expect(refused.response.status).to.equal(401);
    expect(refused.error).to.include({ status: 401, title: 'Unauthorized' });

    const invalid = await contractCheckedClient(baseUrl, await stack.adminToken()).POST('/organizations', {
      body: { organization_name: 'x', email: 'not-an-email', password: 'short' },
    });
    expect(invalid.response.status).to.equal(400);
    expect(invalid.error && 'errors' in invalid.error ? invalid.error.errors?.map((e) => e.field).sort() : []).to.deep.equal([
      'body.email',
      'body.organization_name',
      'body.password',
    ]);
  });
});

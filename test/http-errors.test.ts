import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { startStack, type TestStack } from './support/stack';

describe('Bad requests', () => {
  let stack: TestStack;
  let token: string;
  before(async () => {
    stack = await startStack();
    token = await stack.adminToken();
  });
  after(() => stack.stop());

  const valid = { organization_name: 'Valid Name', email: 'a@example.test', password: 'long enough' };
  const orgCount = async () => (await queryControlDatabase(stack, 'SELECT count(*)::int AS n FROM organizations'))[0].n as number;

  /** Each case: what is sent, and the field the problem must name. */
  const invalidBodies: [string, Record<string, unknown>, string][] = [
    ['the name is missing', { email: valid.email, password: valid.password }, 'body.organization_name'],
    ['the name is one character', { ...valid, organization_name: 'x' }, 'body.organization_name'],
    ['the name is 101 characters', { ...valid, organization_name: 'n'.repeat(101) }, 'body.organization_name'],
    ['the name has a control character', { ...valid, organization_name: 'bad\u0000name' }, 'body.organization_name'],
    ['the name is a number', { ...valid, organization_name: 42 }, 'body.organization_name'],
    ['the email is missing', { organization_name: valid.organization_name, password: valid.password }, 'body.email'],
    ['the email is not an email', { ...valid, email: 'not-an-email' }, 'body.email'],
    ['the password is 7 characters', { ...valid, password: 'seven77' }, 'body.password'],
    ['the password is over 72 bytes', { ...valid, password: 'é'.repeat(37) }, 'body.password'],
    ['the password is an object', { ...valid, password: { $gt: '' } }, 'body.password'],
    ['there is an unknown field', { ...valid, database_name: 'postgres' }, 'body.database_name'],
  ];
  for (const [when, body, field] of invalidBodies) {
    it(`when ${when}, then POST /organizations answers 400 naming ${field} and creates nothing`, async () => {
      const before = await orgCount();
      const res = await stack.request.post('/organizations').set('Authorization', `Bearer ${token}`).send(body).expect(400);
      expect(res.type).to.equal('application/problem+json');
      expect(res.body).to.include({ status: 400, title: 'Your request is not valid' });
      expect(res.body.requestId).to.equal(res.headers['x-request-id']);
      expect(res.body.errors.map((e: { field: string }) => e.field)).to.include(field);
      expect(await orgCount()).to.equal(before);
    });
  }

  it('when the body is not valid JSON, then 400 problem+json without parser internals', async () => {
    const res = await stack.request
      .post('/organizations')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send('{"organization_name":')
      .expect(400);
    expect(res.type).to.equal('application/problem+json');
    expect(res.body.detail).to.equal('The request body is not valid JSON.');
    expect(JSON.stringify(res.body)).to.not.match(/SyntaxError|at JSON|node_modules/);
  });

  it('when the body is larger than BODY_LIMIT, then 413 problem+json', async () => {
    const res = await stack.request
      .post('/organizations')
      .set('Authorization', `Bearer ${token}`)
      .send({ ...valid, organization_name: 'x'.repeat(200_000) })
      .expect(413);
    expect(res.type).to.equal('application/problem+json');
  });

  it('when the body is not JSON, then 415 problem+json', async () => {
    const res = await stack.request.post('/organizations').set('Authorization', `Bearer ${token}`).set('Content-Type', 'text/plain').send('hello').expect(415);
    expect(res.type).to.equal('application/problem+json');
  });

  it('when the id in the path is not a uuid, then 400 (never a 500 from the database)', async () => {
    const res = await stack.request.get("/organizations/1'%20OR%201=1").set('Authorization', `Bearer ${token}`).expect(400);
    expect(res.body.errors[0].field).to.equal('params.id');
  });

  it('when the organization does not exist, then 404 problem+json', async () => {
    const res = await stack.request.get('/organizations/4b0b9b5e-7a53-4f1e-9a63-1f3f2b2b2b2b').set('Authorization', `Bearer ${token}`).expect(404);
    expect(res.type).to.equal('application/problem+json');
  });

  it('when the route does not exist, then 404 problem+json', async () => {
    const res = await stack.request.get('/nope').expect(404);
    expect(res.type).to.equal('application/problem+json');
  });

  it('when a query parameter is unknown or out of range, then 400', async () => {
    await stack.request.get('/organizations').query({ limit: 1000 }).set('Authorization', `Bearer ${token}`).expect(400);
    await stack.request.get('/organizations').query({ status: 'sleeping' }).set('Authorization', `Bearer ${token}`).expect(400);
    await stack.request.get('/organizations').query({ order: 'name' }).set('Authorization', `Bearer ${token}`).expect(400);
    await stack.request.get('/organizations').query({ sort: 'sideways' }).set('Authorization', `Bearer ${token}`).expect(400);
  });

  it('when X-Request-Id is sane it is echoed, and when it is not a fresh one is issued', async () => {
    const kept = await stack.request.get('/health').set('X-Request-Id', 'client-req-12345');
    expect(kept.headers['x-request-id']).to.equal('client-req-12345');
    const replaced = await stack.request.get('/health').set('X-Request-Id', 'bad id with spaces');
    expect(replaced.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
  });
});

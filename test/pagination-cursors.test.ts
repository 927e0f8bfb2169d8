import { expect } from 'chai';
import type { Response } from 'supertest';
import { auth, createActiveOrganization, orgLogin } from './support/org-users';
import { startStack, type TestStack } from './support/stack';

const ID = '0e6c4a12-3b7d-4c1e-9f00-1234567890ab';
const b64 = (text: string) => Buffer.from(text).toString('base64url');

/**
 * Cursors that pass the query schema (base64url, ≤ 2000 characters) but are not ours: each decodes
 * to something PostgreSQL would refuse (a uuid of dashes, a year out of its range) or to something
 * encodeCursor never writes. Every one must be a 400 before any query runs.
 */
const BAD_CURSORS: Record<string, string> = {
  '36 dashes': b64('-'.repeat(36)),
  '36 hex digits': b64('a'.repeat(36)),
  'a date and 36 dashes': b64(`2026-01-02T03:04:05.678Z|${'-'.repeat(36)}`),
  'a date and 36 hex digits': b64(`2026-01-02T03:04:05.678Z|${'0'.repeat(36)}`),
  'year +275760': b64(`+275760-09-13T00:00:00.000Z|${ID}`),
  'year 0000': b64(`0000-01-01T00:00:00.000Z|${ID}`),
  'year -271821': b64(`-271821-04-20T00:00:00.000Z|${ID}`),
  'February 30th': b64(`2026-02-30T00:00:00.000Z|${ID}`),
  'an upper-case id': b64(`2026-01-02T03:04:05.678Z|${ID.toUpperCase()}`),
  'a bracketed id': b64(`2026-01-02T03:04:05.678Z|{${ID}}`),
  'a hyphenless id': b64(`2026-01-02T03:04:05.678Z|${ID.replace(/-/g, '')}`),
};

/** Spellings of a uuid that PostgreSQL would accept (or choke on) but that we never issue. */
const BAD_IDS: Record<string, string> = {
  'in braces': `{${ID}}`,
  'in square brackets': `[${ID}]`,
  'colon-separated (8:4:4:4:12)': ID.replace(/-/g, ':'),
  'colon-separated in brackets': `[${ID.replace(/-/g, ':')}]`,
  'colon-separated in groups of 4': ID.replace(/-/g, '').replace(/(.{4})(?=.)/g, '$1:'),
  hyphenless: ID.replace(/-/g, ''),
  'hyphenated in groups of 4': ID.replace(/-/g, '').replace(/(.{4})(?=.)/g, '$1-'),
  'of 36 dashes': '-'.repeat(36),
  'of 36 hex digits': 'a'.repeat(36),
};

function expectProblem(res: Response, status: number, what: string): void {
  expect(res.status, `${what}: ${res.text.slice(0, 300)}`).to.equal(status);
  expect(res.type, what).to.equal('application/problem+json');
  expect(res.body.status, what).to.equal(status);
  expect(res.text, `${what} leaks internals`).not.to.match(/\n\s+at |QueryFailedError|invalid input syntax|out of range/);
}

describe('Pagination cursors and ids are validated at the edge', () => {
  let stack: TestStack;
  let orgId: string;
  let orgAdminToken: string;

  before(async () => {
    stack = await startStack({ worker: true });
    const org = await createActiveOrganization(stack);
    orgId = org.id;
    orgAdminToken = await orgLogin(stack, org.id, org.email, org.password);
    // A second user, so that a valid cursor of a real page exists.
    await stack.request
      .post(`/organizations/${orgId}/users`)
      .set(auth(orgAdminToken))
      .send({ email: 'second@example.test', password: 'second password' })
      .expect(201);
    await createActiveOrganization(stack);
  });
  after(() => stack?.stop());

  for (const [name, cursor] of Object.entries(BAD_CURSORS)) {
    it(`when GET /organizations has a cursor of ${name}, then it answers 400 invalid-cursor problem+json`, async () => {
      const res = await stack.request
        .get('/organizations')
        .query({ cursor })
        .set(auth(await stack.adminToken()));
      expectProblem(res, 400, `GET /organizations?cursor=${cursor}`);
      expect(res.body.type).to.match(/invalid-cursor$/);
    });

    it(`when GET /organizations/{id}/users has a cursor of ${name}, then it answers 400 invalid-cursor problem+json`, async () => {
      const res = await stack.request.get(`/organizations/${orgId}/users`).query({ cursor }).set(auth(orgAdminToken));
      expectProblem(res, 400, `GET /organizations/${orgId}/users?cursor=${cursor}`);
      expect(res.body.type).to.match(/invalid-cursor$/);
    });

    it(`when GET /migrations/runs has a cursor of ${name}, then it answers 400 invalid-cursor problem+json`, async () => {
      const res = await stack.request
        .get('/migrations/runs')
        .query({ cursor })
        .set(auth(await stack.adminToken()));
      expectProblem(res, 400, `GET /migrations/runs?cursor=${cursor}`);
      expect(res.body.type).to.match(/invalid-cursor$/);
    });
  }

  it('when a cursor comes from next_cursor, then both lists still follow it', async () => {
    const orgs = await stack.request
      .get('/organizations')
      .query({ limit: 1 })
      .set(auth(await stack.adminToken()))
      .expect(200);
    expect(orgs.body.next_cursor).to.be.a('string');
    const next = await stack.request
      .get('/organizations')
      .query({ limit: 1, cursor: orgs.body.next_cursor })
      .set(auth(await stack.adminToken()))
      .expect(200);
    expect(next.body.items).to.have.length(1);
    expect(next.body.items[0].id).not.to.equal(orgs.body.items[0].id);

    const users = await stack.request.get(`/organizations/${orgId}/users`).query({ limit: 1 }).set(auth(orgAdminToken)).expect(200);
    expect(users.body.next_cursor).to.be.a('string');
    const nextUsers = await stack.request
      .get(`/organizations/${orgId}/users`)
      .query({ limit: 1, cursor: users.body.next_cursor })
      .set(auth(orgAdminToken))
      .expect(200);
    expect(nextUsers.body.items).to.have.length(1);
    expect(nextUsers.body.items[0].id).not.to.equal(users.body.items[0].id);
  });

  for (const [name, id] of Object.entries(BAD_IDS)) {
    const path = encodeURIComponent(id);
    it(`when GET /organizations/{id} has an id ${name}, then it answers 400, not 404 or 500`, async () => {
      expectProblem(await stack.request.get(`/organizations/${path}`).set(auth(await stack.adminToken())), 400, `GET /organizations/${id}`);
    });

    it(`when GET /migrations/runs/{id} has an id ${name}, then it answers 400, not 404 or 500`, async () => {
      expectProblem(await stack.request.get(`/migrations/runs/${path}`).set(auth(await stack.adminToken())), 400, `GET /migrations/runs/${id}`);
    });

    it(`when unauthenticated POST /admin/login has an organization_id ${name}, then it answers 400, not 401 or 500`, async () => {
      const login = await stack.request.post('/admin/login').send({ organization_id: id, email: 'owner@example.test', password: 'correct horse battery' });
      expectProblem(login, 400, `POST /admin/login {organization_id: ${id}}`);
    });
  }

  it('when the real org id is sent in upper case, then it is folded and found (the one spelling we issue)', async () => {
    const res = await stack.request.get(`/organizations/${orgId.toUpperCase()}`).set(auth(await stack.adminToken()));
    expect(res.status, res.text).to.equal(200);
    expect(res.body.id).to.equal(orgId);
  });
});

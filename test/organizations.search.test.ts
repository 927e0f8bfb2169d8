import { expect } from 'chai';
import type { Response } from 'supertest';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import { auth, createActiveOrganization, orgLogin } from './support/org-users';
import { uniqueName } from './support/organizations';
import { SECOND_SERVER_URL, startStack, type TestStack } from './support/stack';

interface Listed {
  id: string;
  name: string;
  external_id: string | null;
  metadata: Record<string, string>;
  database_server: string | null;
  created_at: string;
}

describe('Finding organizations: filters, sorts and stable pages of GET /organizations', function () {
  // Dropping a suite's databases waits for checkpoints, which take long on a machine shared by many suites.
  this.timeout(60000);
  let stack: TestStack;
  let admin: Record<string, string>;
  /** The organizations the suite made, in creation order. */
  const made: Listed[] = [];
  let secondServerId: string;

  async function create(body: Record<string, unknown>): Promise<Listed> {
    const res = await stack.request
      .post('/organizations')
      .set(admin)
      .send({ email: 'owner@example.test', password: 'correct horse battery', ...body })
      .expect(202);
    made.push(res.body);
    return res.body;
  }

  async function list(query: Record<string, string | number>): Promise<{ items: Listed[]; next_cursor: string | null }> {
    return (await stack.request.get('/organizations').query(query).set(admin).expect(200)).body;
  }

  /** Every page of the list, following next_cursor with the same query. */
  async function everyPage(query: Record<string, string | number>): Promise<Listed[]> {
    const all: Listed[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(cursor ? { ...query, cursor } : query);
      all.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  }

  const names = (items: Listed[]) => items.map((o) => o.name);

  before(async () => {
    stack = await startStack({ env: { ALLOW_SELF_SIGNUP: 'true' } });
    admin = auth(await stack.adminToken());
    secondServerId = (
      await stack.request
        .post('/database-servers')
        .set(admin)
        .send({ name: 'pg-search', admin_url: SECOND_SERVER_URL, capacity: 10, connection_budget: 5 })
        .expect(201)
    ).body.id;
    // Never provisioned (the suite runs no worker): listing needs rows only.
    await create({ organization_name: 'Zephyr Alpha', external_id: 'cus_alpha', metadata: { plan: 'trial' } });
    await create({ organization_name: 'zephyr beta' });
    await create({ organization_name: 'Ｚｅｐｈｙｒ Gamma', database_server: 'pg-search' }); // full width
    await create({ organization_name: 'Mercury', database_server: 'pg-search' });
    await create({ organization_name: '50% Club' });
    await create({ organization_name: '500 Club' });
    await create({ organization_name: 'Apex' });
    await create({ organization_name: 'apex two' });
  });
  after(() => stack?.stop());

  it('when name is a prefix in another case, full width or with look-alike letters of another script, then exactly the names that look like they start with it are listed', async () => {
    const zephyrs = ['Zephyr Alpha', 'zephyr beta', 'Ｚｅｐｈｙｒ Gamma'];
    for (const prefix of ['zephyr', 'ZEPHYR', 'Ｚｅｐｈ', 'Zеphyr' /* Cyrillic е */])
      expect(names((await list({ name: prefix, sort: 'name' })).items), prefix).to.have.members(zephyrs);
    expect(names((await list({ name: 'zephyr b' })).items)).to.deep.equal(['zephyr beta']);
    // LIKE's wildcards in the prefix are letters like any other.
    expect(names((await list({ name: '50%' })).items)).to.deep.equal(['50% Club']);
    expect(names((await list({ name: 'Ap_x' })).items)).to.deep.equal([]);
  });

  it('when database_server_id is given, then only the organizations on that server are listed; combined with name, both must hold', async () => {
    expect(names((await list({ database_server_id: secondServerId, sort: 'name' })).items)).to.deep.equal(['Mercury', 'Ｚｅｐｈｙｒ Gamma']);
    expect(names((await list({ database_server_id: secondServerId, name: 'zeph' })).items)).to.deep.equal(['Ｚｅｐｈｙｒ Gamma']);
    expect((await list({ database_server_id: '0e6c4a12-3b7d-4c1e-9f00-1234567890ab' })).items).to.deep.equal([]);
  });

  it('when created_after and created_before are given, then the organizations created in [after, before) are listed; an instant PostgreSQL cannot store is a 400', async () => {
    const [, second, third, fourth] = made;
    const window = await list({ created_after: second.created_at, created_before: fourth.created_at, sort: 'created_at' });
    expect(window.items.map((o) => o.id)).to.deep.equal([second.id, third.id]);
    expect((await list({ created_after: made[made.length - 1].created_at })).items.map((o) => o.id)).to.deep.equal([made[made.length - 1].id]);
    for (const instant of ['-271821-04-20T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', 'yesterday']) {
      const res = await stack.request.get('/organizations').query({ created_after: instant }).set(admin);
      expect(res.status, instant).to.equal(400);
      expect(res.type).to.equal('application/problem+json');
    }
  });

  it('when external_id is given, then the one organization with it is listed, with its external id and metadata', async () => {
    const { items } = await list({ external_id: 'cus_alpha' });
    expect(items.map((o) => [o.name, o.external_id, o.metadata])).to.deep.equal([['Zephyr Alpha', 'cus_alpha', { plan: 'trial' }]]);
    expect((await list({ external_id: 'cus_nobody' })).items).to.deep.equal([]);
  });

  for (const sort of ['name', '-name', 'created_at', '-created_at']) {
    it(`when sort=${sort} is followed page by page (limit 3), then every organization comes exactly once, in the order of one big page`, async () => {
      const paged = await everyPage({ sort, limit: 3 });
      const whole = (await list({ sort, limit: 100 })).items;
      expect(paged.map((o) => o.id)).to.deep.equal(whole.map((o) => o.id));
      expect(new Set(paged.map((o) => o.id)).size).to.equal(made.length);
      if (sort === 'created_at') expect(paged.map((o) => o.id)).to.deep.equal(made.map((o) => o.id));
      if (sort === '-created_at') expect(paged.map((o) => o.id)).to.deep.equal(made.map((o) => o.id).reverse());
    });
  }

  it('when sorted by name, then names compare as they look (case folded, full width as narrow), and -name is the exact reverse', async () => {
    const byName = names(await everyPage({ sort: 'name', limit: 4 }));
    const latin = ['Apex', 'apex two', 'Mercury', 'Zephyr Alpha', 'zephyr beta', 'Ｚｅｐｈｙｒ Gamma'];
    expect(byName.filter((name) => latin.includes(name))).to.deep.equal(latin);
    expect(names(await everyPage({ sort: '-name', limit: 4 }))).to.deep.equal([...byName].reverse());
  });

  it('when pages are read, then each is one SQL statement on organizations, whatever the filters, sort and cursor', async () => {
    const statements: string[] = [];
    const query = PostgresQueryRunner.prototype.query;
    PostgresQueryRunner.prototype.query = function (this: PostgresQueryRunner, sql: string, ...rest: unknown[]) {
      statements.push(sql);
      return (query as (...args: unknown[]) => Promise<unknown>).call(this, sql, ...rest);
    } as typeof query;
    try {
      await list({ name: 'z', external_id: 'cus_alpha', status: 'pending', created_before: new Date().toISOString(), sort: 'name' });
      const first = await list({ database_server_id: secondServerId, created_after: made[0].created_at, sort: '-name', limit: 1 });
      await list({ database_server_id: secondServerId, created_after: made[0].created_at, sort: '-name', limit: 1, cursor: first.next_cursor as string });
    } finally {
      PostgresQueryRunner.prototype.query = query;
    }
    expect(
      statements.filter((sql) => /\bFROM organizations\b/.test(sql)),
      'one per page',
    ).to.have.lengthOf(3);
  });

  it('when a cursor of one sort is sent with another sort, then 400 invalid-cursor problem+json names both sorts', async () => {
    const { next_cursor } = await list({ sort: 'name', limit: 1 });
    const res = await stack.request.get('/organizations').query({ sort: 'created_at', cursor: next_cursor }).set(admin).expect(400);
    expect(res.type).to.equal('application/problem+json');
    expect(res.body.type).to.match(/invalid-cursor$/);
    expect(res.body.detail).to.contain('"name"').and.contain('"created_at"');
    // Without sort the default (-created_at) applies: not the cursor's sort either.
    await stack.request.get('/organizations').query({ cursor: next_cursor }).set(admin).expect(400);
  });

  describe('external_id and metadata', () => {
    const expectProblem = (res: Response, status: number) => {
      expect(res.status, res.text).to.equal(status);
      expect(res.type).to.equal('application/problem+json');
      expect(res.text).to.not.match(/organizations_external_id|duplicate key|QueryFailedError/);
    };
    const count = async () => (await list({ limit: 100 })).items.length;
    const newBody = (extra: Record<string, unknown>) => ({
      organization_name: uniqueName('Labelled'),
      email: 'owner@example.test',
      password: 'correct horse battery',
      ...extra,
    });

    it('when an external_id is taken, then POST and PATCH answer 409 naming the field, and nothing changes', async () => {
      const before = await count();
      const taken = await stack.request
        .post('/organizations')
        .set(admin)
        .send(newBody({ external_id: 'cus_alpha' }));
      expectProblem(taken, 409);
      expect(taken.body.field).to.equal('external_id');
      expect(await count()).to.equal(before);

      const other = made.find((o) => o.name === 'Apex') as Listed;
      const patched = await stack.request.patch(`/organizations/${other.id}`).set(admin).send({ external_id: 'cus_alpha', organization_name: 'Apex renamed' });
      expectProblem(patched, 409);
      expect(patched.body.field).to.equal('external_id');
      const read = await stack.request.get(`/organizations/${other.id}`).set(admin).expect(200);
      expect(read.body).to.include({ name: 'Apex', external_id: null });
    });

    it('when external_id is patched, then it is set, then null removes it and frees it for another organization', async () => {
      const [a, b] = [made.find((o) => o.name === '500 Club'), made.find((o) => o.name === 'apex two')] as Listed[];
      expect((await stack.request.patch(`/organizations/${a.id}`).set(admin).send({ external_id: 'cus_moving' }).expect(200)).body.external_id).to.equal(
        'cus_moving',
      );
      expect((await stack.request.patch(`/organizations/${a.id}`).set(admin).send({ external_id: null }).expect(200)).body.external_id).to.equal(null);
      expect((await stack.request.patch(`/organizations/${b.id}`).set(admin).send({ external_id: 'cus_moving' }).expect(200)).body.external_id).to.equal(
        'cus_moving',
      );
    });

    const overLimits: Record<string, Record<string, unknown>> = {
      '21 keys': Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])),
      'a 41-character key': { ['k'.repeat(41)]: 'v' },
      'a key with a space': { 'billing plan': 'v' },
      'a 501-character value': { plan: 'x'.repeat(501) },
      'a number value': { seats: 10 },
      'a NUL in a value': { plan: 'a\u0000b' },
      'a lone surrogate in a value': { plan: 'a\ud800b' },
      'more than 4096 bytes': Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'é'.repeat(250)])),
    };
    for (const [what, metadata] of Object.entries(overLimits)) {
      it(`when metadata has ${what}, then POST answers 400 naming metadata, and nothing is created`, async () => {
        const before = await count();
        const res = await stack.request.post('/organizations').set(admin).send(newBody({ metadata }));
        expectProblem(res, 400);
        expect(res.body.errors.map((e: { field: string }) => e.field).join()).to.contain('body.metadata');
        expect(await count()).to.equal(before);
      });
    }

    it('when metadata is patched, then it merges (null removes a key), and a merge that would pass the limits answers 400 and changes nothing', async () => {
      const org = made.find((o) => o.name === 'Mercury') as Listed;
      const patch = (metadata: Record<string, unknown>) => stack.request.patch(`/organizations/${org.id}`).set(admin).send({ metadata });
      expect((await patch({ plan: 'trial', region: 'eu' }).expect(200)).body.metadata).to.deep.equal({ plan: 'trial', region: 'eu' });
      expect((await patch({ plan: 'enterprise', region: null, crm: 'acct-1' }).expect(200)).body.metadata).to.deep.equal({ plan: 'enterprise', crm: 'acct-1' });

      const tooMany = Object.fromEntries(Array.from({ length: 19 }, (_, i) => [`k${i}`, 'v']));
      const res = await patch(tooMany);
      expectProblem(res, 400);
      expect(res.body.errors).to.deep.equal([{ field: 'metadata', message: 'at most 20 keys' }]);
      const tooBig = await patch(Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'x'.repeat(480)])));
      expectProblem(tooBig, 400);
      const read = await stack.request.get(`/organizations/${org.id}`).set(admin).expect(200);
      expect(read.body.metadata).to.deep.equal({ plan: 'enterprise', crm: 'acct-1' });
    });

    it('when a self-signup sends external_id or metadata, then 403 and nothing is created', async () => {
      const before = await count();
      for (const extra of [{ external_id: 'cus_self' }, { metadata: { plan: 'free' } }]) {
        expectProblem(await stack.request.post('/organizations').send(newBody(extra)), 403);
      }
      expect(await count()).to.equal(before);
    });
  });
});

describe("Only platform admins set an organization's external_id and metadata", function () {
  this.timeout(60000);
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: true });
  });
  after(() => stack?.stop());

  it('when an organization admin patches its external_id or metadata, then 403 and nothing changes; a rename in the same request is refused too', async () => {
    const org = await createActiveOrganization(stack);
    const orgAdmin = auth(await orgLogin(stack, org.id, org.email, org.password));
    for (const body of [{ metadata: { plan: 'free' } }, { external_id: 'cus_self', organization_name: uniqueName('Renamed') }]) {
      const res = await stack.request.patch(`/organizations/${org.id}`).set(orgAdmin).send(body);
      expect(res.status, res.text).to.equal(403);
      expect(res.type).to.equal('application/problem+json');
    }
    const read = await stack.request
      .get(`/organizations/${org.id}`)
      .set(auth(await stack.adminToken()))
      .expect(200);
    expect(read.body).to.include({ name: org.name, external_id: null });
    expect(read.body.metadata).to.deep.equal({});
  });
});

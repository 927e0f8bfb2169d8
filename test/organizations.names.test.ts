import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { createActiveOrganization } from './support/org-users';
import { createOrganization } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

/** "Acme" with a Cyrillic А (U+0410) and the rest Latin. */
const MIXED_ACME = '\u0410cme';
/** "Асме" all in Cyrillic. */
const CYRILLIC_ACME = '\u0410\u0441\u043c\u0435';
const FULL_WIDTH_ACME = '\uff21\uff43\uff4d\uff45';
const NFC_CAFE = 'Caf\u00e9';
const NFD_CAFE = 'Cafe\u0301';

describe('Organization names that look alike', () => {
  let stack: TestStack;
  let acme: { id: string; name: string; email: string; password: string };
  before(async () => {
    stack = await startStack({ worker: true });
    acme = await createActiveOrganization(stack, { organization_name: 'Acme', email: 'owner@acme.test', password: 'acme password' });
  });
  after(() => stack.stop());

  const organizationCount = async (): Promise<number> => {
    const [{ count }] = await queryControlDatabase<{ count: number }>(
      stack,
      `SELECT count(*)::int AS count FROM organizations WHERE status NOT IN ('deleted', 'purging', 'purged')`,
    );
    return count;
  };

  const create = async (name: string) =>
    stack.request
      .post('/organizations')
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .send({ organization_name: name, email: 'someone@example.test', password: 'long enough' });

  it('when "Acme" exists, then "Ａｃｍｅ", all-Cyrillic "Асме", "ACME" and " acme " each answer 409 and create nothing', async () => {
    const before = await organizationCount();
    for (const name of [FULL_WIDTH_ACME, CYRILLIC_ACME, 'ACME', ' acme ', '\u0410\u0421\u041c\u0415']) {
      const res = await create(name);
      expect(res.status, JSON.stringify(name)).to.equal(409);
      expect(res.type).to.equal('application/problem+json');
    }
    expect(await organizationCount()).to.equal(before);
  });

  it('when a name mixes a Cyrillic А with Latin letters, then it answers 400 naming organization_name and the scripts, and creates nothing', async () => {
    const before = await organizationCount();
    for (const name of [MIXED_ACME, '\u0410lpha Widgets']) {
      const res = await create(name);
      expect(res.status, name).to.equal(400);
      expect(res.type).to.equal('application/problem+json');
      expect(res.body.errors).to.deep.equal([
        { field: 'body.organization_name', message: 'organization_name mixes scripts that look alike (Cyrillic and Latin); use one script' },
      ]);
    }
    expect(await organizationCount()).to.equal(before);
    const [{ count }] = await queryControlDatabase(stack, 'SELECT count(*)::int AS count FROM organizations WHERE name = $1', [MIXED_ACME]);
    expect(count).to.equal(0);
  });

  it('when "Café" exists in NFC, then "Café" in NFD answers 409 (and the other way round)', async () => {
    expect((await create(NFC_CAFE)).status).to.equal(202);
    expect((await create(NFD_CAFE)).status).to.equal(409);
    expect((await create('CAFE\u0301')).status).to.equal(409);
    expect((await create('Cafe')).status, 'without the accent it is another name').to.equal(202);
  });

  it('when another organization is renamed to a look-alike of a live name, then it answers 409 and keeps its name; a look-alike of its own name is fine', async () => {
    const globex = await createOrganization(stack, { organization_name: 'Globex' });
    const token = await stack.adminToken();
    for (const name of [FULL_WIDTH_ACME, CYRILLIC_ACME, 'acme']) {
      const res = await stack.request.patch(`/organizations/${globex.id}`).set('Authorization', `Bearer ${token}`).send({ organization_name: name });
      expect(res.status, JSON.stringify(name)).to.equal(409);
    }
    const mixed = await stack.request.patch(`/organizations/${globex.id}`).set('Authorization', `Bearer ${token}`).send({ organization_name: 'Gl\u043ebex' });
    expect(mixed.status, 'Cyrillic о in a Latin word').to.equal(400);
    const compat = await stack.request
      .put('/org/update')
      .set('Authorization', `Bearer ${token}`)
      .send({ organization_name: 'globex', new_organization_name: CYRILLIC_ACME });
    expect(compat.status, 'the compatibility rename too').to.equal(409);
    const unchanged = await stack.request.get(`/organizations/${globex.id}`).set('Authorization', `Bearer ${token}`).expect(200);
    expect(unchanged.body.name).to.equal('Globex');

    const own = await stack.request
      .patch(`/organizations/${globex.id}`)
      .set('Authorization', `Bearer ${token}`)
      .send({ organization_name: 'GLOBEX' })
      .expect(200);
    expect(own.body).to.include({ name: 'GLOBEX', slug: 'globex' });
  });

  it('when POST /admin/login names the organization "Ａｃｍｅ", "Асме" or "ACME", then it reaches the same organization as "Acme"; a mixed-script name is a 400', async () => {
    for (const name of ['Acme', FULL_WIDTH_ACME, CYRILLIC_ACME, 'ACME']) {
      const res = await stack.request.post('/admin/login').send({ organization_name: name, email: acme.email, password: acme.password });
      expect(res.status, JSON.stringify(name)).to.equal(200);
      expect(res.body.user.organization_id).to.equal(acme.id);
    }
    const seedStyle = await stack.request
      .post('/admin/login')
      .query({ organization_name: FULL_WIDTH_ACME })
      .send({ email: acme.email, password: acme.password })
      .expect(200);
    expect(seedStyle.body.user.organization_id).to.equal(acme.id);
    await stack.request.post('/admin/login').send({ organization_name: MIXED_ACME, email: acme.email, password: acme.password }).expect(400);
  });

  it('when the organization holding a name is deleted, then a look-alike of that name is free again', async () => {
    const token = await stack.adminToken();
    const initech = await createActiveOrganization(stack, { organization_name: 'Initech' });
    expect((await create('\uff29\uff4e\uff49\uff54\uff45\uff43\uff48')).status).to.equal(409);
    const deleted = await stack.request.delete(`/organizations/${initech.id}`).set('Authorization', `Bearer ${token}`).expect(200);
    expect(deleted.body.status).to.equal('deleted');
    expect((await create('\uff29\uff4e\uff49\uff54\uff45\uff43\uff48')).status).to.equal(202);
  });

  it('when organizations are written, then name_key is stored for each and the unique index is on it among live organizations', async () => {
    const rows = await queryControlDatabase(stack, `SELECT name, name_key FROM organizations WHERE name_key IS NULL OR name_key = ''`);
    expect(rows).to.deep.equal([]);
    const [{ indexdef }] = await queryControlDatabase(
      stack,
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'organizations' AND indexname = 'organizations_live_name_key_uq'`,
    );
    expect(indexdef).to.match(/UNIQUE INDEX .* \(name_key\) WHERE \(\(status\)::text <> ALL \(.*'deleted'.*'purging'.*'purged'.*\)\)/);
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import { startApi, startWorker } from '../../harness/built-service';
import { controlQuery, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import type { ServiceProcess } from '../../harness/service-process';
import { waitUntil } from '../../harness/wait';
import { ApiClient, endFaultTest, orgDatabases, waitForStatuses } from '../support/service-processes';

/**
 * Property-based: fast-check generates bodies, path ids, query strings and headers for every
 * route of the API (the `*.routes.ts` of apps/api/src, plus docs/metrics/health) and sends them to the
 * real process. Properties: never a 5xx (nor a hang), every 4xx is application/problem+json
 * with a matching `status`, no answer leaks a stack trace or SQL, and afterwards every database
 * of our prefix is named from an organization id only (or is the template).
 *
 * NUM_RUNS (env FAULTS_FC_RUNS, default 400) requests; FAULTS_FC_SEED replays a failing run.
 */
const NUM_RUNS = Number(process.env.FAULTS_FC_RUNS ?? 400);

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Auth = 'none' | 'admin' | 'orgAdmin' | 'member' | 'garbage' | 'wrongScheme' | 'forged';

/** Every route: `:id` is an organization id, `:userId` a user id, `:runId` a migration run id. */
const ROUTES: Array<[Method, string]> = [
  ['GET', '/health'],
  ['GET', '/ready'],
  ['GET', '/openapi.json'],
  ['GET', '/metrics'],
  ['GET', '/admin/queues'],
  ['POST', '/auth/login'],
  ['POST', '/auth/register'],
  ['POST', '/organizations'],
  ['GET', '/organizations'],
  ['GET', '/organizations/:id'],
  ['GET', '/organizations/:id/status'],
  ['GET', '/organizations/:id/events'],
  ['PATCH', '/organizations/:id'],
  ['DELETE', '/organizations/:id'],
  ['POST', '/organizations/:id/retry'],
  ['POST', '/organizations/:id/restore'],
  ['POST', '/admin/login'],
  ['GET', '/me'],
  ['POST', '/organizations/:id/users'],
  ['GET', '/organizations/:id/users'],
  ['GET', '/organizations/:id/users/:userId'],
  ['PATCH', '/organizations/:id/users/:userId'],
  ['DELETE', '/organizations/:id/users/:userId'],
  ['POST', '/migrations/runs'],
  ['GET', '/migrations/runs'],
  ['GET', '/migrations/runs/:runId'],
  ['GET', '/admin/orphans'],
  // the seed services' routes (compatibility router)
  ['POST', '/org/create'],
  ['POST', '/organization/create'],
  ['GET', '/org/get'],
  ['POST', '/org/get'],
  ['GET', '/organization'],
  ['PUT', '/org/update'],
  ['DELETE', '/org/delete'],
  ['POST', '/user/create'],
  ['GET', '/user/list'],
  // and ones that do not exist
  ['GET', '/organizations/:id/nothing'],
  ['POST', '/'],
];

const NASTY = [
  '',
  ' ',
  "'; DROP DATABASE postgres; --",
  '" OR 1=1 --',
  'Robert"); DROP TABLE organizations;--',
  '$(rm -rf /)',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '\u0000abc',
  '\t\n\r',
  '\u202e\u0644\u0627',
  '🙂🙂🙂',
  'Ω≈ç√',
  '<script>alert(1)</script>',
  '$' + '{jndi:ldap://x}',
  '__proto__',
  'constructor',
  'prototype',
  'org_',
  'template',
  'postgres',
  '\\',
  '%',
  '_',
  'a'.repeat(101),
  'x'.repeat(5000),
  'NaN',
  '-1',
  '1e309',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-4fff-bfff-ffffffffffff',
];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
);

const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: text },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(text, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(text, text, { maxKeys: 3 }) },
);

/** A display name an attacker might choose: what must never reach a database name. */
const hostileName = fc.oneof(
  fc.constantFrom("acme'; DROP DATABASE postgres; --", 'org_00000000000000000000000000000000', 'Ünïcödé Corp 🙂', '  spaced  ', '../..', '%2e%2e'),
  fc.string({ unit: 'grapheme', minLength: 2, maxLength: 60 }),
  fc.string({ minLength: 2, maxLength: 100 }),
);

const FIELDS = ['organization_name', 'organization_id', 'email', 'password', 'role', 'is_active', 'admin_email', 'name', 'status', '__proto__', 'constructor'];

type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string };

function bodyArbitrary(ctx: Context): fc.Arbitrary<Body> {
  const validish = fc.record({
    organization_name: fc.oneof(hostileName, fc.constant(ctx.orgName)),
    email: fc.oneof(fc.constant(ctx.orgAdminEmail), fc.emailAddress(), text),
    password: fc.oneof(fc.constant(ctx.orgAdminPassword), fc.string({ minLength: 8, maxLength: 80 }), text),
  });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<Body>({ kind: 'none' }) },
    { weight: 4, arbitrary: validish.map((v): Body => ({ kind: 'json', value: v })) },
    {
      weight: 4,
      arbitrary: fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), text), value, { maxKeys: 5 }).map((v): Body => ({ kind: 'json', value: v })),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v): Body => ({ kind: 'json', value: v })) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          text,
          fc.constantFrom(
            '{',
            '{"a":',
            '[1,2',
            '{"__proto__":{"admin":true}}',
            '{"constructor":{"prototype":{"x":1}}}',
            'null',
            '"str"',
            '1',
            'true',
            '\uFEFF{}',
            '{}'.repeat(1000),
          ),
          fc.constant(`{"organization_name":"${'x'.repeat(200 * 1024)}"}`), // over BODY_LIMIT (100kb)
        )
        .map((t): Body => ({ kind: 'raw', text: t })),
    },
  );
}

interface Context {
  orgId: string;
  orgName: string;
  orgAdminEmail: string;
  orgAdminPassword: string;
  userId: string;
  tokens: Record<'admin' | 'orgAdmin' | 'member', string>;
}

/** Header values must be tab, visible ASCII or obs-text (0x80–0xFF) for fetch (undici) to send them at all. */
function headerSafe(s: string): string {
  return [...s]
    .filter((c) => /[\t\x20-\x7e\x80-\xff]/.test(c))
    .join('')
    .trim();
}

function requestArbitrary(ctx: Context) {
  const id = fc.oneof({ weight: 3, arbitrary: fc.constant(ctx.orgId) }, { weight: 2, arbitrary: fc.uuid() }, { weight: 3, arbitrary: text });
  const userId = fc.oneof(fc.constant(ctx.userId), fc.uuid(), text);
  const query = fc.oneof(
    { weight: 2, arbitrary: fc.constant('') },
    {
      weight: 4,
      arbitrary: fc
        .array(fc.tuple(fc.oneof(fc.constantFrom('status', 'limit', 'cursor', 'organization_name', 'organization_id', 'email'), text), text), { maxLength: 4 })
        .map((pairs) => (pairs.length ? `?${new URLSearchParams(pairs).toString()}` : '')),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '?limit=0',
        '?limit=101',
        '?limit=-1',
        '?limit=1e3',
        '?limit=abc',
        '?status=active&status=failed',
        '?cursor=!!!',
        `?cursor=${'A'.repeat(300)}`,
        '?cursor=eyJ4IjoxfQ',
        '?cursor=MjAyNi0xMS0yMVQy',
        '?organization_name[]=a',
        '?organization_name[$ne]=x',
        '?a=%',
        '?%ZZ=1',
        '?limit=5&limit=6',
        `?organization_name=${encodeURIComponent(ctx.orgName)}`,
        '?__proto__[admin]=1',
      ),
    },
  );
  const headers = fc.record(
    {
      // Mostly JSON, so that most requests get past the media-type check and reach validation and services.
      'content-type': fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            'application/json; charset=utf-16',
            'application/json; charset=latin1',
            'application/merge-patch+json',
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/problem+json',
          ),
        },
        { weight: 1, arbitrary: text.map(headerSafe) },
      ),
      'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'x-unknown'),
      accept: fc.oneof(fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html'), text.map(headerSafe)),
      'x-request-id': text.map(headerSafe),
      prefer: fc.oneof(fc.constantFrom('wait=0', 'wait=1', 'wait=-5', 'wait=abc', 'respond-async'), text.map(headerSafe)),
      'x-forwarded-for': fc.oneof(fc.ipV4(), text.map(headerSafe)),
      'accept-language': text.map(headerSafe),
    },
    { requiredKeys: ['content-type'] },
  );
  const auth = fc.constantFrom<Auth>('none', 'admin', 'admin', 'admin', 'orgAdmin', 'orgAdmin', 'member', 'garbage', 'wrongScheme', 'forged');
  // Every route, with the ones that create databases from user input weighted up.
  const route = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ROUTES) },
    { weight: 1, arbitrary: fc.constantFrom<[Method, string]>(['POST', '/organizations'], ['POST', '/org/create'], ['POST', '/organization/create']) },
  );
  return fc.record({ route, id, userId, runId: fc.oneof(fc.uuid(), text), query, headers, auth, body: bodyArbitrary(ctx) });
}

function authorization(ctx: Context, auth: Auth): string | undefined {
  switch (auth) {
    case 'none':
      return undefined;
    case 'garbage':
      return 'Bearer not.a.jwt';
    case 'wrongScheme':
      return `Basic ${Buffer.from('root@faults.test:fault-admin-password').toString('base64')}`;
    case 'forged': {
      // The admin token with its payload swapped for a member's claims: the signature no longer matches.
      const [h, , s] = ctx.tokens.admin.split('.');
      const payload = Buffer.from(JSON.stringify({ sub: 'x', role: 'platform_admin', iss: 'orgms', aud: 'orgms-api' })).toString('base64url');
      return `Bearer ${h}.${payload}.${s}`;
    }
    default:
      return `Bearer ${ctx.tokens[auth]}`;
  }
}

describe('Fault: hostile input on every route (property-based, fast-check)', function () {
  this.timeout(120000);
  let fe: ServiceEnv | undefined;

  afterEach(async function () {
    await endFaultTest(this.currentTest, fe);
  });

  it('when generated bodies, ids, headers and query strings hit every route, then never a 5xx, every 4xx is problem+json, and no database name contains user text', async () => {
    fe = await isolatedServiceEnv({
      WORKER_CONCURRENCY: '2',
      LOGIN_RATE_LIMIT_PER_IP: '1000000',
      LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000000',
    });
    const env = fe;
    const apiProcess: ServiceProcess = await startApi(env);
    await startWorker(env);
    const api = new ApiClient(env.baseUrl);

    // A real, active organization with an admin and a member, so ids and tokens can be valid.
    const orgName = `Hostile Base ${env.id}`;
    const created = await api.createOrganization(orgName, { email: 'owner@faults.test', password: 'correct horse battery' });
    expect(created.status).to.equal(202);
    const orgId = created.body.id as string;
    await waitForStatuses(env, [orgId], ['active'], 20000);
    const orgLogin = await api.request('POST', '/admin/login', {
      auth: false,
      body: { organization_id: orgId, email: 'owner@faults.test', password: 'correct horse battery' },
    });
    expect(orgLogin.status, JSON.stringify(orgLogin.body)).to.equal(200);
    const orgAdminToken = orgLogin.body.access_token as string;
    const member = await api.request('POST', `/organizations/${orgId}/users`, {
      headers: { authorization: `Bearer ${orgAdminToken}` },
      body: { email: 'member@faults.test', password: 'member password 1', role: 'member' },
    });
    expect(member.status, JSON.stringify(member.body)).to.equal(201);
    const memberLogin = await api.request('POST', '/admin/login', {
      auth: false,
      body: { organization_id: orgId, email: 'member@faults.test', password: 'member password 1' },
    });
    expect(memberLogin.status).to.equal(200);
    const ctx: Context = {
      orgId,
      orgName,
      orgAdminEmail: 'owner@faults.test',
      orgAdminPassword: 'correct horse battery',
      userId: member.body.id as string,
      tokens: { admin: await api.adminToken(), orgAdmin: orgAdminToken, member: memberLogin.body.access_token as string },
    };

    const seen = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(requestArbitrary(ctx), async (r) => {
        const [method, template] = r.route;
        // Deleting the base organization would only make the rest of the run less interesting.
        const id = method === 'DELETE' && template === '/organizations/:id' && r.id === ctx.orgId ? '00000000-0000-4000-8000-000000000000' : r.id;
        const path =
          template.replace(':id', encodeURIComponent(id)).replace(':userId', encodeURIComponent(r.userId)).replace(':runId', encodeURIComponent(r.runId)) +
          r.query;
        if (template === '/org/delete' && path.includes(encodeURIComponent(ctx.orgName))) return; // same reason
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = v;
        const auth = authorization(ctx, r.auth);
        if (auth) headers.authorization = auth;
        let body: string | undefined;
        if (method !== 'GET' && r.body.kind !== 'none') body = r.body.kind === 'raw' ? r.body.text : JSON.stringify(r.body.value);
        if (body === undefined) delete headers['content-encoding'];

        sent += 1;
        const res = await fetch(`${env.baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(10000) });
        const type = res.headers.get('content-type') ?? '';
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const what = `${method} ${path.slice(0, 200)} (auth ${r.auth}) → ${res.status} ${type}`;
        if (type.startsWith('text/event-stream')) {
          await res.body?.cancel();
          expect(res.status, what).to.equal(200);
          return;
        }
        const answer = await res.text();
        expect(res.status, `${what}: ${answer.slice(0, 300)}`).to.be.below(500);
        expect(answer, `${what} leaks internals`).not.to.match(/\n\s+at |node_modules|QueryFailedError|TypeORMError|\bSELECT\b.*\bFROM\b|\bINSERT INTO\b/);
        if (res.status >= 400) {
          expect(type, `${what}: ${answer.slice(0, 300)}`).to.match(/^application\/problem\+json/);
          const problem = JSON.parse(answer);
          expect(problem.status, what).to.equal(res.status);
          expect(problem.title, what).to.be.a('string');
          expect(problem.type, what).to.be.a('string');
        }
      }),
      { numRuns: NUM_RUNS, seed: process.env.FAULTS_FC_SEED ? Number(process.env.FAULTS_FC_SEED) : undefined, endOnFailure: true },
    );

    // Phase 2, focused on what could reach a database name: hostile display names accepted by
    // validation, through all three create routes and the rename route.
    const checkAnswer = async (what: string, res: Response, allowed: number[]) => {
      const answer = await res.text();
      const type = res.headers.get('content-type') ?? '';
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      expect(allowed, `${what} → ${res.status}: ${answer.slice(0, 300)}`).to.include(res.status);
      if (res.status >= 400) expect(type, `${what} → ${res.status}`).to.match(/^application\/problem\+json/);
      return answer;
    };
    const adminJson = { authorization: `Bearer ${ctx.tokens.admin}`, 'content-type': 'application/json' };
    await fc.assert(
      fc.asyncProperty(hostileName, fc.constantFrom('/organizations', '/org/create', '/organization/create'), async (name, path) => {
        sent += 1;
        const res = await fetch(`${env.baseUrl}${path}`, {
          method: 'POST',
          headers: adminJson,
          body: JSON.stringify({ organization_name: name, email: 'owner@faults.test', password: 'correct horse battery' }),
          signal: AbortSignal.timeout(10000),
        });
        await checkAnswer(`POST ${path} ${JSON.stringify(name)}`, res, [202, 400, 409]);
      }),
      { numRuns: Math.ceil(NUM_RUNS / 5), seed: process.env.FAULTS_FC_SEED ? Number(process.env.FAULTS_FC_SEED) : undefined, endOnFailure: true },
    );
    await fc.assert(
      fc.asyncProperty(hostileName, async (name) => {
        sent += 1;
        const res = await fetch(`${env.baseUrl}/organizations/${ctx.orgId}`, {
          method: 'PATCH',
          headers: adminJson,
          body: JSON.stringify({ organization_name: name }),
          signal: AbortSignal.timeout(10000),
        });
        await checkAnswer(`PATCH rename ${JSON.stringify(name)}`, res, [200, 400, 409]);
      }),
      { numRuns: Math.ceil(NUM_RUNS / 10), seed: process.env.FAULTS_FC_SEED ? Number(process.env.FAULTS_FC_SEED) : undefined, endOnFailure: true },
    );
    expect(apiProcess.alive, 'the API is still running').to.equal(true);

    // Let the worker settle every organization the run created, then inspect the database names.
    await waitUntil(
      async () =>
        (await controlQuery<{ n: number }>(env, "SELECT count(*)::int AS n FROM organizations WHERE status IN ('pending', 'provisioning', 'purging')"))[0].n ===
        0,
      40000,
      'every generated organization to settle',
      250,
    );
    const orgs = await controlQuery<{ id: string; name: string; status: string }>(env, 'SELECT id, name, status FROM organizations');
    const allowed = new Set([`${env.orgPrefix}template`, ...orgs.map((o) => `${env.orgPrefix}${o.id.replace(/-/g, '')}`)]);
    const databases = await orgDatabases(env);
    for (const { datname, marker } of databases) {
      expect(allowed.has(datname), `database ${datname} is not named from an org id`).to.equal(true);
      expect(datname).to.match(new RegExp(`^${env.orgPrefix}([0-9a-f]{32}|template)$`));
      if (datname !== `${env.orgPrefix}template`)
        expect(marker).to.equal(`orgms:organization:${orgs.find((o) => datname.endsWith(o.id.replace(/-/g, '')))?.id}`);
    }
    const statuses = orgs.reduce<Record<string, number>>((acc, o) => {
      acc[o.status] = (acc[o.status] ?? 0) + 1;
      return acc;
    }, {});
    expect(statuses.failed ?? 0, 'no generated org failed to provision').to.equal(0);
    process.stdout.write(
      `      (${sent} requests; answers ${JSON.stringify(Object.fromEntries([...seen].sort((a, b) => a[0] - b[0])))}; ${orgs.length} orgs ${JSON.stringify(statuses)}; ${databases.length} databases checked)\n`,
    );
  });
});

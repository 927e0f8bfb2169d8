import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import { startApi, startWorker } from '../../harness/built-service';
import { isolatedServiceEnv, SERVICE_ADMIN_EMAIL, SERVICE_ADMIN_PASSWORD, type ServiceEnv } from '../../harness/service-env';
import type { ServiceProcess } from '../../harness/service-process';
import { ApiClient, endFaultTest, waitForStatuses } from '../support/service-processes';

/**
 * Property-based, derived from the API's own OpenAPI document: the test fetches `/openapi.json`
 * from the running API (a real process, built from dist), enumerates every operation (path +
 * method) it declares, and for each one lets fast-check derive requests from the document: path
 * parameters, query parameters and headers from their schemas, request bodies from the
 * requestBody schema (`properties`/`required`/`type`/`format`/`enum`, `$ref` and `allOf`
 * resolved here), each with hostile variants (non-canonical and malformed uuids, junk cursors,
 * out-of-range numbers, repeated and bracketed query keys, wrong types, missing required fields,
 * extra keys, nulls, other charsets and broken JSON) and every kind of caller (none, platform
 * admin, org admin, member, garbage and forged tokens, Basic).
 *
 * Properties: never a 5xx, never a hang (a timeout per request), every 4xx is
 * application/problem+json whose `status` matches, and no answer carries a stack trace or SQL.
 * A `text/event-stream` answer is read up to its headers, then closed.
 *
 * FAULTS_OPENAPI_RUNS (default 600) requests in all, spread evenly over the operations (each at
 * least once); FAULTS_FC_SEED replays a run (the seed is printed; operation i of the document runs
 * with seed + i); FAULTS_OPENAPI_ONLY (a regular expression on "METHOD /path") narrows the run to
 * some operations, with the same seeds.
 */
const RUNS = Number(process.env.FAULTS_OPENAPI_RUNS ?? 600);
const SEED = process.env.FAULTS_FC_SEED ? Number(process.env.FAULTS_FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const ONLY = process.env.FAULTS_OPENAPI_ONLY ? new RegExp(process.env.FAULTS_OPENAPI_ONLY) : undefined;
const REQUEST_TIMEOUT_MS = 10000;
/**
 * Node's HTTP parser answers a request head over 16 KiB (`--max-http-header-size`) itself, with a
 * bare 431 that never reaches the app: generated query strings are cut to this many characters
 * (whole pairs dropped from the end) so that every request is the app's to answer.
 */
const MAX_QUERY_CHARS = 4000;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type Auth = 'none' | 'admin' | 'orgAdmin' | 'member' | 'garbage' | 'forged' | 'basicAdmin' | 'basicWrong';

// ---------------------------------------------------------------------------------------------
// The document: a small resolver for local `$ref`s (`#/components/...`) and `allOf`.
// ---------------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: Json[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minProperties?: number;
  additionalProperties?: boolean | Schema;
  example?: Json;
  default?: Json;
}
interface Parameter {
  $ref?: string;
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { $ref?: string; required?: boolean; content?: Record<string, { schema?: Schema }> };
  security?: Array<Record<string, string[]>>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation | Parameter[]> & { parameters?: Parameter[] }>;
  components?: Record<string, Record<string, unknown>>;
  security?: Array<Record<string, string[]>>;
}

function pointer(doc: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, not ${ref}`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) throw new Error(`unresolvable $ref ${ref}`);
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Follows `$ref`s until a node without one (a cycle is an error in the document). */
function deref<T extends { $ref?: string }>(doc: OpenApiDocument, node: T): T {
  let current = node;
  for (let hops = 0; current.$ref; hops += 1) {
    if (hops > 20) throw new Error(`$ref cycle at ${node.$ref}`);
    current = pointer(doc, current.$ref) as T;
  }
  return current;
}

/** A schema with its `$ref`s followed and `allOf` merged (properties, required, type): enough to derive values. */
function resolveSchema(doc: OpenApiDocument, schema: Schema | undefined, depth = 0): Schema {
  if (!schema || depth > 8) return {};
  const own = deref(doc, schema);
  if (!own.allOf) return own;
  const merged: Schema = { ...own, allOf: undefined, properties: { ...(own.properties ?? {}) }, required: [...(own.required ?? [])] };
  for (const part of own.allOf.map((s) => resolveSchema(doc, s, depth + 1))) {
    merged.type ??= part.type;
    Object.assign(merged.properties as Record<string, Schema>, part.properties ?? {});
    merged.required?.push(...(part.required ?? []));
    if (part.additionalProperties === false) merged.additionalProperties = false;
  }
  return merged;
}

interface DerivedOperation {
  method: string;
  path: string;
  key: string;
  parameters: Parameter[];
  body?: Schema;
  bodyRequired: boolean;
  security: Array<Record<string, string[]>>;
}

/** Every operation of the document, with path-level and operation-level parameters merged and resolved. */
function operationsOf(doc: OpenApiDocument): DerivedOperation[] {
  const operations: DerivedOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const shared = (item.parameters ?? []).map((p) => deref(doc, p));
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      const own = (operation.parameters ?? []).map((p) => deref(doc, p));
      const parameters = [...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)), ...own];
      const requestBody = operation.requestBody ? deref(doc, operation.requestBody) : undefined;
      const json = requestBody?.content?.['application/json'];
      operations.push({
        method: method.toUpperCase(),
        path,
        key: `${method.toUpperCase()} ${path}`,
        parameters: parameters.map((p) => ({ ...p, schema: resolveSchema(doc, p.schema) })),
        body: json ? resolveSchema(doc, json.schema) : undefined,
        bodyRequired: requestBody?.required === true,
        security: operation.security ?? doc.security ?? [],
      });
    }
  }
  return operations;
}

// ---------------------------------------------------------------------------------------------
// Values: valid-ish ones derived from schemas (with known ids, names and credentials mixed in)
// and hostile ones.
// ---------------------------------------------------------------------------------------------

interface Context {
  orgId: string;
  orgName: string;
  /** A second organization: the target of every destructive organization operation, so the base stays usable. */
  victimOrgId: string;
  victimOrgName: string;
  orgAdminUserId: string;
  memberId: string;
  /** A user of the base organization that PATCH/DELETE may change (changing the others would revoke the test's tokens). */
  victimUserId: string;
  runId: string;
  cursors: string[];
  tokens: Record<'admin' | 'orgAdmin' | 'member', string>;
}

const OWNER = { email: 'owner@faults.test', password: 'correct horse battery' };
const MEMBER = { email: 'member@faults.test', password: 'member password 1' };

const NASTY = [
  '',
  ' ',
  "'; DROP DATABASE postgres; --",
  '" OR 1=1 --',
  '../../etc/passwd',
  '%00',
  '\u0000',
  '\t\n\r',
  '\u202e\u0644\u0627',
  '🙂',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'NaN',
  '-1',
  '1e309',
  'null',
  'true',
  '[]',
  '{}',
  'a'.repeat(101),
  'x'.repeat(5000),
];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);

/** A uuid spelled every way we never issue, plus things that are not uuids at all. */
function hostileUuids(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const variants = base.chain((id) =>
    fc.constantFrom(
      id.toUpperCase(), // folded: valid
      `{${id}}`,
      `[${id}]`,
      id.replace(/-/g, ':'),
      `[${id.replace(/-/g, ':')}]`,
      id.replace(/-/g, ''),
      id.replace(/-/g, '').replace(/(.{4})(?=.)/g, '$1-'),
      ` ${id}`,
      `${id} `,
      `${id}\u0000`,
      `${id}x`,
      id.slice(1),
      `urn:uuid:${id}`,
      `${id},${id}`,
    ),
  );
  return fc.oneof(
    { weight: 4, arbitrary: variants },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '-'.repeat(36),
        'f'.repeat(36),
        '0'.repeat(36),
        'g'.repeat(36),
        '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
        'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
        '1',
        '0',
        'me',
        '..',
        '.',
      ),
    },
    // Huge, but the whole request head stays under Node's 16 KiB limit (see MAX_QUERY_CHARS).
    { weight: 1, arbitrary: fc.constantFrom('a'.repeat(5000), `${'0'.repeat(8)}-`.repeat(500), 'é'.repeat(800)) },
    { weight: 2, arbitrary: text },
  );
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** Cursors that pass a base64url pattern but decode to junk: ids PostgreSQL would refuse, dates outside its range. */
function hostileCursors(): fc.Arbitrary<string> {
  const id = fc.uuid();
  const iso = fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true }).map((d) => d.toISOString());
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        b64('-'.repeat(36)),
        b64('a'.repeat(36)),
        b64(`2026-01-02T03:04:05.678Z|${'-'.repeat(36)}`),
        b64(`2026-01-02T03:04:05.678Z|${'0'.repeat(36)}`),
        b64('+275760-09-13T00:00:00.000Z|0e6c4a12-3b7d-4c1e-9f00-1234567890ab'),
        b64('-271821-04-20T00:00:00.000Z|0e6c4a12-3b7d-4c1e-9f00-1234567890ab'),
        b64('0000-01-01T00:00:00.000Z|0e6c4a12-3b7d-4c1e-9f00-1234567890ab'),
        b64('2026-02-30T00:00:00.000Z|0e6c4a12-3b7d-4c1e-9f00-1234567890ab'),
        b64('2026-01-02T03:04:05.678Z|{0e6c4a12-3b7d-4c1e-9f00-1234567890ab}'),
        b64('2026-01-02T03:04:05.678Z|0e6c4a12:3b7d:4c1e:9f00:1234567890ab'),
        b64('2026-01-02T03:04:05.678Z'),
        b64('|'),
        b64('{"x":1}'),
        '!!!',
        'A'.repeat(300),
        '====',
        'eyJ4IjoxfQ',
      ),
    },
    // Well-formed text around a junk part, and well-formed ones (valid: a 200 with an empty or short page).
    { weight: 2, arbitrary: fc.tuple(iso, id).map(([d, u]) => b64(`${d}|${u}`)) },
    { weight: 2, arbitrary: fc.tuple(iso, hostileUuids(id)).map(([d, u]) => b64(`${d}|${u}`)) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 30 }), id).map(([d, u]) => b64(`${d}|${u}`)) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes).toString('base64url')) },
  );
}

function knownUuids(ctx: Context, op: DerivedOperation, name: string): string[] {
  const destructive = op.method !== 'GET' && op.method !== 'POST';
  if (name === 'userId') return destructive ? [ctx.victimUserId] : [ctx.memberId, ctx.orgAdminUserId, ctx.victimUserId];
  if (op.path.startsWith('/migrations/runs')) return [ctx.runId, ctx.orgId];
  if (op.path.includes('/users')) return [ctx.orgId];
  if (name === 'organization_id') return [ctx.orgId, ctx.victimOrgId];
  // DELETE/PATCH of an organization (and retry) act on the victim only; reads see both.
  return destructive || op.path.endsWith('/retry') ? [ctx.victimOrgId] : [ctx.orgId, ctx.victimOrgId];
}

function knownNames(ctx: Context, op: DerivedOperation): string[] {
  return op.method === 'PUT' || op.method === 'DELETE' ? [ctx.victimOrgName] : [ctx.orgName, ctx.victimOrgName];
}

let nameCounter = 0;
const freshName = fc.constant(null).map(() => {
  nameCounter += 1;
  return `Derived ${process.pid} ${nameCounter}`;
});

/** A valid-ish value for one schema: what the document says, with the test's real ids, names and credentials mixed in. */
function valueFor(ctx: Context, op: DerivedOperation, schema: Schema, name: string, depth = 0): fc.Arbitrary<Json> {
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : schema.properties ? ['object'] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => valueFor(ctx, op, { ...schema, type }, name, depth)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case 'array':
      return depth > 3 ? fc.constant([]) : fc.array(valueFor(ctx, op, schema.items ?? {}, name, depth + 1), { maxLength: 3 });
    case 'object':
      return depth > 3 ? fc.constant({}) : objectFor(ctx, op, schema, depth + 1);
    case 'string':
      return stringFor(ctx, op, schema, name);
    default:
      return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  }
}

function stringFor(ctx: Context, op: DerivedOperation, schema: Schema, name: string): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.max(min, Math.min(schema.maxLength ?? 60, 200));
  const generic = fc.string({ minLength: min, maxLength: max });
  if (schema.format === 'uuid') return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...knownUuids(ctx, op, name)) }, { weight: 1, arbitrary: fc.uuid() });
  if (schema.format === 'email' || name === 'email') {
    return fc.oneof(fc.constantFrom(OWNER.email, MEMBER.email, SERVICE_ADMIN_EMAIL, 'OWNER@faults.test'), fc.emailAddress());
  }
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
  if (name === 'password')
    return fc.oneof(fc.constantFrom(OWNER.password, MEMBER.password, SERVICE_ADMIN_PASSWORD), fc.string({ minLength: 8, maxLength: 72 }));
  if (name === 'organization_name') return fc.oneof(fc.constantFrom(...knownNames(ctx, op)), freshName);
  if (name === 'new_organization_name') return freshName;
  if (name === 'cursor') return fc.oneof(fc.constantFrom(...ctx.cursors), hostileCursors());
  if (name === 'Prefer') return fc.constantFrom('wait=0', 'wait=1', 'wait=2', 'wait="1"', 'respond-async', 'wait=1, respond-async');
  if (name === 'Last-Event-ID') return fc.oneof(fc.nat({ max: 50 }).map(String), fc.constantFrom('0'));
  if (schema.example !== undefined && typeof schema.example === 'string') return fc.oneof(fc.constant(schema.example), generic);
  return generic;
}

function objectFor(ctx: Context, op: DerivedOperation, schema: Schema, depth: number): fc.Arbitrary<Json> {
  const properties = schema.properties ?? {};
  const keys = Object.keys(properties);
  if (keys.length === 0) return fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>, { maxKeys: 3 });
  const model: Record<string, fc.Arbitrary<Json>> = {};
  for (const key of keys) model[key] = valueFor(ctx, op, properties[key], key, depth);
  const requiredKeys = (schema.required ?? []).filter((k) => keys.includes(k));
  return fc.record(model, { requiredKeys }) as fc.Arbitrary<Json>;
}

/** A value of the wrong kind for any field. */
const wrongValue: fc.Arbitrary<Json> = fc.oneof<fc.Arbitrary<Json>[]>(
  fc.constant(null),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant([]),
  fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 3 }),
  fc.constant({}),
  fc.constant({ $ne: null }),
  fc.constantFrom(...NASTY),
  fc.constant('y'.repeat(20000)),
);

type Mutation =
  | { kind: 'drop'; pick: number }
  | { kind: 'wrongType'; pick: number; value: Json }
  | { kind: 'extra'; key: string; value: Json }
  | { kind: 'nullAll' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('wrongType' as const), pick: fc.nat(), value: wrongValue }),
  fc.record({
    kind: fc.constant('extra' as const),
    key: fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'role', 'status', 'is_admin', 'organization_id'),
      fc.string({ maxLength: 20 }),
    ),
    value: fc.oneof(wrongValue, fc.constant({ admin: true })),
  }),
  fc.constant({ kind: 'nullAll' as const }),
);

function mutate(value: Json, m: Mutation): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const copy: Record<string, Json> = { ...value };
  const keys = Object.keys(copy);
  switch (m.kind) {
    case 'drop':
      if (keys.length > 0) delete copy[keys[m.pick % keys.length]];
      return copy;
    case 'wrongType':
      if (keys.length > 0) copy[keys[m.pick % keys.length]] = m.value;
      else copy.value = m.value;
      return copy;
    case 'extra':
      // defineProperty: a `__proto__` key is sent as an own key, as an attacker's JSON would have it.
      Object.defineProperty(copy, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
      return copy;
    case 'nullAll':
      return Object.fromEntries(keys.map((k) => [k, null]));
  }
}

type Body = { kind: 'none' } | { kind: 'json'; value: Json } | { kind: 'raw'; bytes: ArrayBuffer };

/** The exact bytes to send (an ArrayBuffer, which fetch sends as it is). */
function bytesOf(buffer: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(buffer.length);
  new Uint8Array(copy).set(buffer);
  return copy;
}

function bodyFor(ctx: Context, op: DerivedOperation): fc.Arbitrary<Body> {
  const junk = fc
    .oneof(
      fc.constantFrom('{', '{"a":', '[1,2', 'null', '"str"', '1', 'true', '\uFEFF{}', '{}'.repeat(1000), '{"__proto__":{"admin":true}}', ''),
      fc.string({ maxLength: 40 }),
      fc.constant(`{"organization_name":"${'x'.repeat(200 * 1024)}"}`), // over BODY_LIMIT (100kb)
    )
    .map((s): Body => ({ kind: 'raw', bytes: bytesOf(Buffer.from(s, 'utf8')) }));
  const utf16 = fc
    .jsonValue({ maxDepth: 2 })
    .map((v): Body => ({ kind: 'raw', bytes: bytesOf(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(v), 'utf16le')])) }));
  if (!op.body) {
    return fc.oneof(
      { weight: 8, arbitrary: fc.constant<Body>({ kind: 'none' }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v): Body => ({ kind: 'json', value: v as Json })) },
      { weight: 1, arbitrary: junk },
    );
  }
  const valid = valueFor(ctx, op, op.body, 'body');
  return fc.oneof(
    { weight: 5, arbitrary: valid.map((value): Body => ({ kind: 'json', value })) },
    { weight: 5, arbitrary: fc.tuple(valid, mutation).map(([value, m]): Body => ({ kind: 'json', value: mutate(value, m) })) },
    { weight: 1, arbitrary: fc.tuple(valid, mutation, mutation).map(([value, a, b]): Body => ({ kind: 'json', value: mutate(mutate(value, a), b) })) },
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v): Body => ({ kind: 'json', value: v as Json })) },
    { weight: 1, arbitrary: junk },
    { weight: 1, arbitrary: utf16 },
  );
}

/** One value for a query parameter or header, from its schema, or a hostile one. */
function parameterValue(ctx: Context, op: DerivedOperation, p: Parameter): fc.Arbitrary<string> {
  const schema = p.schema ?? {};
  const valid = valueFor(ctx, op, schema, p.name).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  const hostile: fc.Arbitrary<string>[] = [text];
  if (schema.type === 'integer' || schema.type === 'number') {
    const lo = schema.minimum ?? 0;
    const hi = schema.maximum ?? 1000;
    hostile.push(
      fc.constantFrom(String(lo - 1), String(hi + 1), '0', '-1', String(2 ** 53), '1e309', '-1e309', '1.5', '0x10', ' 5', '5 ', '', 'abc', 'NaN', 'Infinity'),
    );
  }
  if (schema.format === 'uuid') hostile.push(hostileUuids(fc.constantFrom(...knownUuids(ctx, op, p.name))));
  if (p.name === 'cursor') hostile.push(hostileCursors());
  if (p.name === 'Prefer') hostile.push(fc.constantFrom('wait=abc', 'wait=-5', 'wait=', 'wait=1.5', 'wait=0x10', 'handling=strict', 'wait'));
  if (p.name === 'Last-Event-ID') hostile.push(fc.constantFrom('-1', '99999999999999999999999', 'abc', '1e3', ' 1', '0x1', ''));
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: fc.oneof(...hostile) });
}

/** Header values must be tab, visible ASCII or obs-text for fetch (undici) to send them at all. */
function headerSafe(s: string): string {
  return [...s]
    .filter((c) => /[\t\x20-\x7e\x80-\xff]/.test(c))
    .join('')
    .trim();
}

interface DerivedRequest {
  pathValues: Record<string, string>;
  query: Array<[string, string]>;
  rawQuerySuffix: string;
  headers: Record<string, string>;
  contentType: string;
  auth: Auth;
  body: Body;
}

function requestFor(ctx: Context, op: DerivedOperation): fc.Arbitrary<DerivedRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const headerParams = op.parameters.filter((p) => p.in === 'header');

  const pathModel: Record<string, fc.Arbitrary<string>> = {};
  for (const p of pathParams) {
    const schema = p.schema ?? {};
    const valid = valueFor(ctx, op, schema, p.name).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    pathModel[p.name] =
      schema.format === 'uuid'
        ? fc.oneof({ weight: 3, arbitrary: valid }, { weight: 3, arbitrary: hostileUuids(fc.constantFrom(...knownUuids(ctx, op, p.name))) })
        : fc.oneof(valid, text);
  }

  const declared = queryParams.map((p) =>
    fc.option(
      parameterValue(ctx, op, p).map((v): [string, string] => [p.name, v]),
      { freq: 2, nil: undefined },
    ),
  );
  const names = queryParams.map((p) => p.name);
  const extraKey = fc.oneof(
    names.length > 0 ? fc.constantFrom(...names) : fc.constant('limit'), // a repeated key: an array
    names.length > 0 ? fc.constantFrom(...names.flatMap((n) => [`${n}[]`, `${n}[$ne]`, `${n}[0]`, `${n}[a][b]`])) : fc.constant('a[]'),
    fc.constantFrom('__proto__[admin]', 'constructor[prototype][x]', 'unknown', 'status', 'limit', 'cursor', 'organization_name', 'organization_id'),
    fc.string({ maxLength: 10 }),
  );
  const extras = fc.array(fc.tuple(extraKey, fc.oneof(text, fc.constantFrom('1', 'active', '20'))), { maxLength: 3 });
  const query = fc.tuple(fc.tuple(...declared), extras).map(([d, e]) => [...d.filter((x): x is [string, string] => x !== undefined), ...e]);

  const headerModel: Record<string, fc.Arbitrary<string>> = {};
  for (const p of headerParams) headerModel[p.name] = parameterValue(ctx, op, p).map(headerSafe);

  const secured = op.security.length > 0 && op.security.some((s) => Object.keys(s).length > 0);
  const auth = secured
    ? fc.oneof(
        { weight: 5, arbitrary: fc.constant<Auth>('admin') },
        { weight: 4, arbitrary: fc.constant<Auth>('orgAdmin') },
        { weight: 2, arbitrary: fc.constant<Auth>('member') },
        { weight: 1, arbitrary: fc.constantFrom<Auth>('none', 'garbage', 'forged', 'basicAdmin', 'basicWrong') },
      )
    : fc.constantFrom<Auth>('none', 'none', 'none', 'admin', 'orgAdmin', 'member', 'garbage');

  return fc.record({
    pathValues: fc.record(pathModel),
    query,
    rawQuerySuffix: fc.oneof(
      { weight: 12, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.constantFrom('&%', '&%ZZ=1', '&a=%E0%A4%A', '&&&', '&=x', '&x') },
    ),
    headers: fc.record(headerModel, { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>,
    contentType: fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          'application/json; charset=utf-16',
          'application/json; charset=latin1',
          'application/json; charset=utf-8; charset=utf-16',
          'application/merge-patch+json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/problem+json',
          'application/json;;',
          'application/json; charset',
        ),
      },
    ),
    auth,
    body: bodyFor(ctx, op),
  });
}

function authorization(ctx: Context, auth: Auth): string | undefined {
  switch (auth) {
    case 'none':
      return undefined;
    case 'garbage':
      return 'Bearer not.a.jwt';
    case 'basicAdmin':
      return `Basic ${Buffer.from(`${SERVICE_ADMIN_EMAIL}:${SERVICE_ADMIN_PASSWORD}`).toString('base64')}`;
    case 'basicWrong':
      return `Basic ${Buffer.from(`${SERVICE_ADMIN_EMAIL}:wrong`).toString('base64')}`;
    case 'forged': {
      const [h, , s] = ctx.tokens.admin.split('.');
      const payload = Buffer.from(JSON.stringify({ sub: randomUUID(), role: 'platform_admin', iss: 'orgms', aud: 'orgms-api' })).toString('base64url');
      return `Bearer ${h}.${payload}.${s}`;
    }
    default:
      return `Bearer ${ctx.tokens[auth]}`;
  }
}

const LEAK = /\n\s+at |node_modules|QueryFailedError|TypeORMError|invalid input syntax|\bSELECT\b.*\bFROM\b|\bINSERT INTO\b/;

describe('Fault: every operation of the OpenAPI document, with requests derived from it (property-based, fast-check)', function () {
  this.timeout(180000);
  let fe: ServiceEnv | undefined;

  afterEach(async function () {
    await endFaultTest(this.currentTest, fe);
  });

  it('when a request head is larger than Node accepts, or the request line is garbage, then the answer is still problem+json', async () => {
    fe = await isolatedServiceEnv();
    await startApi(fe);
    const huge = await fetch(`${fe.baseUrl}/organizations/${'a'.repeat(20000)}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    expect(huge.status).to.equal(431);
    expect(huge.headers.get('content-type')).to.equal('application/problem+json');
    expect(await huge.json()).to.include({ status: 431 });
    const { port } = new URL(fe.baseUrl);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end('GARBAGE\r\n\r\n'));
      let answer = '';
      socket.on('data', (chunk) => {
        answer += chunk.toString();
      });
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
    expect(raw)
      .to.match(/^HTTP\/1\.1 400 /)
      .and.include('application/problem+json')
      .and.include('"status":400');
  });

  it('when requests derived from the document (and hostile variants) hit every operation, then never a 5xx or a hang, every 4xx is problem+json with its status, nothing leaks', async () => {
    const started = Date.now();
    fe = await isolatedServiceEnv({ WORKER_CONCURRENCY: '2', LOGIN_RATE_LIMIT_PER_IP: '1000000', LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000000' });
    const env = fe;
    const apiProcess: ServiceProcess = await startApi(env);
    await startWorker(env);
    const api = new ApiClient(env.baseUrl);

    // Real ids, names and tokens, so that derived requests can be valid and reach the services.
    const orgName = `OpenAPI Base ${env.id}`;
    const victimOrgName = `OpenAPI Victim ${env.id}`;
    const created = await api.createOrganization(orgName, OWNER);
    const victim = await api.createOrganization(victimOrgName, OWNER);
    expect([created.status, victim.status]).to.deep.equal([202, 202]);
    const orgId = created.body.id as string;
    const victimOrgId = victim.body.id as string;
    await waitForStatuses(env, [orgId, victimOrgId], ['active'], 30000);
    const orgLogin = await api.request('POST', '/admin/login', { auth: false, body: { organization_id: orgId, ...OWNER } });
    expect(orgLogin.status, JSON.stringify(orgLogin.body)).to.equal(200);
    const orgAdminToken = orgLogin.body.access_token as string;
    const asOrgAdmin = { headers: { authorization: `Bearer ${orgAdminToken}` } };
    const member = await api.request('POST', `/organizations/${orgId}/users`, { ...asOrgAdmin, body: { ...MEMBER, role: 'member' } });
    const victimUser = await api.request('POST', `/organizations/${orgId}/users`, {
      ...asOrgAdmin,
      body: { email: 'victim@faults.test', password: 'victim password 1' },
    });
    expect([member.status, victimUser.status]).to.deep.equal([201, 201]);
    const memberLogin = await api.request('POST', '/admin/login', { auth: false, body: { organization_id: orgId, ...MEMBER } });
    expect(memberLogin.status).to.equal(200);
    const run = await api.request('POST', '/migrations/runs');
    expect(run.status, JSON.stringify(run.body)).to.equal(202);
    const orgPage = await api.request('GET', '/organizations?limit=1');
    const userPage = await api.request('GET', `/organizations/${orgId}/users?limit=1`, asOrgAdmin);
    const cursors = [orgPage.body.next_cursor, userPage.body.next_cursor].filter((c): c is string => typeof c === 'string');
    expect(cursors, 'both lists have a second page').to.have.length(2);
    const ctx: Context = {
      orgId,
      orgName,
      victimOrgId,
      victimOrgName,
      orgAdminUserId: orgLogin.body.user.id as string,
      memberId: member.body.id as string,
      victimUserId: victimUser.body.id as string,
      runId: run.body.id as string,
      cursors,
      tokens: { admin: await api.adminToken(), orgAdmin: orgAdminToken, member: memberLogin.body.access_token as string },
    };

    // The document, as the running API serves it.
    const docAnswer = await fetch(`${env.baseUrl}/openapi.json`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    expect(docAnswer.status).to.equal(200);
    const doc = (await docAnswer.json()) as OpenApiDocument;
    expect(doc.openapi).to.match(/^3\./);
    const all = operationsOf(doc);
    const operations = all.filter((op) => !ONLY || ONLY.test(op.key));
    expect(operations.length, 'operations to exercise').to.be.greaterThan(0);
    const perOperation = Math.max(1, Math.ceil(RUNS / operations.length));
    process.stdout.write(
      `      (${all.length} operations in the document; ${operations.length} exercised, ${perOperation} requests each; FAULTS_FC_SEED=${SEED} replays this run)\n`,
    );

    const counts = new Map<string, Map<number, number>>();
    const failures: string[] = [];
    let sent = 0;
    for (const op of operations) {
      const seen = new Map<number, number>();
      counts.set(op.key, seen);
      try {
        await fc.assert(
          fc.asyncProperty(requestFor(ctx, op), async (r) => {
            let path = op.path;
            for (const [name, value] of Object.entries(r.pathValues)) path = path.replace(`{${name}}`, encodeURIComponent(value));
            const pairs = [...r.query];
            while (pairs.length > 0 && new URLSearchParams(pairs).toString().length > MAX_QUERY_CHARS) pairs.pop();
            const qs = new URLSearchParams(pairs).toString() + r.rawQuerySuffix;
            const url = `${env.baseUrl}${path}${qs ? `?${qs}` : ''}`;
            const headers: Record<string, string> = { ...r.headers };
            const auth = authorization(ctx, r.auth);
            if (auth) headers.authorization = auth;
            let body: ArrayBuffer | string | undefined;
            if (op.method !== 'GET' && op.method !== 'HEAD' && r.body.kind !== 'none') {
              body = r.body.kind === 'raw' ? r.body.bytes : JSON.stringify(r.body.value);
              headers['content-type'] = r.contentType;
            }
            const what = `${op.method} ${url.slice(env.baseUrl.length, env.baseUrl.length + 300)} (auth ${r.auth}, headers ${JSON.stringify(r.headers).slice(0, 200)}, content-type ${headers['content-type'] ?? '-'}, body ${typeof body === 'string' ? body.slice(0, 300) : body ? `<${body.byteLength} bytes>` : '-'})`;
            sent += 1;
            let res: Response;
            try {
              res = await fetch(url, { method: op.method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
            } catch (error) {
              throw new Error(`${what}: no answer within ${REQUEST_TIMEOUT_MS} ms (${(error as Error).message})`);
            }
            seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
            const type = res.headers.get('content-type') ?? '';
            if (type.startsWith('text/event-stream')) {
              await res.body?.cancel();
              expect(res.status, what).to.be.below(500);
              return;
            }
            let answer: string;
            try {
              answer = await res.text();
            } catch (error) {
              throw new Error(`${what} → ${res.status}: the body did not arrive within ${REQUEST_TIMEOUT_MS} ms (${(error as Error).message})`);
            }
            expect(res.status, `${what} → ${res.status}: ${answer.slice(0, 300)}`).to.be.below(500);
            if (!type.startsWith('text/html')) expect(answer, `${what} leaks internals`).not.to.match(LEAK);
            if (res.status >= 400) {
              expect(type, `${what} → ${res.status}: ${answer.slice(0, 300)}`).to.match(/^application\/problem\+json/);
              const problem = JSON.parse(answer);
              expect(problem.status, what).to.equal(res.status);
              expect(problem.title, what).to.be.a('string');
              expect(problem.type, what).to.be.a('string');
            }
          }),
          { numRuns: perOperation, seed: SEED + all.indexOf(op), endOnFailure: true, includeErrorInReport: true },
        );
      } catch (error) {
        failures.push(`${op.key}: ${(error as Error).message}`);
      }
    }

    const width = Math.max(...operations.map((op) => op.key.length));
    const lines = operations.map((op) => {
      const seen = counts.get(op.key) ?? new Map();
      const total = [...seen.values()].reduce((a, b) => a + b, 0);
      return `        ${op.key.padEnd(width)}  ${String(total).padStart(3)}  ${JSON.stringify(Object.fromEntries([...seen].sort((a, b) => a[0] - b[0])))}`;
    });
    process.stdout.write(
      `      (${sent} requests over ${operations.length} operations in ${((Date.now() - started) / 1000).toFixed(1)} s)\n${lines.join('\n')}\n`,
    );
    expect(apiProcess.alive, 'the API is still running').to.equal(true);
    expect(failures, failures.join('\n\n')).to.deep.equal([]);
  });
});

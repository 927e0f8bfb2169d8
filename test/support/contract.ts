import { openApiSpec } from '@orgms/api/openapi/spec';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import supertest, { type Response, type Test } from 'supertest';

/**
 * The API's contract, checked on every answer the test suites receive: the answer's status must
 * be one the OpenAPI document lists for that operation, its media type one the document lists
 * for that status, its body valid against that schema (JSON Schema 2020-12, Ajv), every header
 * the document marks `required` present and every declared header that is present valid. The
 * headers a client acts on (Location, Retry-After, Preference-Applied, WWW-Authenticate,
 * RateLimit-*) must be declared whenever they are sent. A request that matches no operation must
 * be answered with the 404 problem of an unknown route.
 *
 * Wired into `stack.request` (test/support/stack.ts), so every supertest call of every suite is
 * checked, and counted: the count is printed at the end of the run (test/support/contract-hooks.ts).
 */

type Json = Record<string, unknown>;

export interface ObservedAnswer {
  method: string;
  /** The request path, with or without its query string. */
  url: string;
  status: number;
  /** Header names in any case. */
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, when the answer is JSON. */
  body?: unknown;
  /** The raw text, when there is one. */
  text?: string;
}

/** Headers that clients act on: sending one that the document does not declare is drift. */
const CONTRACT_HEADERS = [/^location$/, /^retry-after$/, /^preference-applied$/, /^www-authenticate$/, /^ratelimit/];

/**
 * Operator pages built by third-party packages (Swagger UI's and ReDoc's assets, Bull Board's
 * own API and assets): documented as pages, not checked file by file.
 */
const THIRD_PARTY_PAGES = [/^\/docs\//, /^\/redoc\/(assets\/|init\.js$)/, /^\/admin\/queues\//];

export const contractStats = { validated: 0, thirdParty: 0, byOperation: new Map<string, number>() };

interface Operation {
  key: string;
  pointer: string;
  responses: Record<string, Json>;
}

interface CompiledDocument {
  spec: Json;
  ajv: Ajv2020;
  routes: { method: string; pattern: RegExp; templated: number; operation: Operation }[];
  validators: Map<string, ValidateFunction>;
}

let compiled: CompiledDocument | undefined;

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

function resolve(spec: Json, value: Json): Json {
  let current = value;
  for (let hops = 0; typeof current.$ref === 'string'; hops++) {
    if (hops > 10) throw new Error(`$ref loop at ${String(current.$ref)}`);
    const path = (current.$ref as string).replace(/^#\//, '').split('/');
    current = path.reduce<Json>((node, segment) => node?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')] as Json, spec);
    if (!current) throw new Error(`unresolved $ref ${String(value.$ref)}`);
  }
  return current;
}

function document(): CompiledDocument {
  if (compiled) return compiled;
  const spec = structuredClone(openApiSpec()) as Json;
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(spec, 'openapi.json');
  const routes: CompiledDocument['routes'] = [];
  for (const [path, item] of Object.entries(spec.paths as Record<string, Json>)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'patch', 'delete', 'head', 'options'].includes(method)) continue;
      const templated = (path.match(/\{/g) ?? []).length;
      const pattern = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`);
      const pointer = `#/paths/${escapePointer(path)}/${method}`;
      routes.push({
        method,
        pattern,
        templated,
        operation: { key: `${method.toUpperCase()} ${path}`, pointer, responses: (operation as Json).responses as Record<string, Json> },
      });
    }
  }
  // A literal path wins over a templated one that also matches.
  routes.sort((a, b) => a.templated - b.templated);
  compiled = { spec, ajv, routes, validators: new Map() };
  return compiled;
}

function validatorFor(doc: CompiledDocument, pointer: string): ValidateFunction {
  let validate = doc.validators.get(pointer);
  if (!validate) {
    validate = doc.ajv.compile({ $ref: `openapi.json${pointer}` });
    doc.validators.set(pointer, validate);
  }
  return validate;
}

function headerValue(headers: ObservedAnswer['headers'], name: string): string | undefined {
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase());
  const value = entry?.[1];
  return Array.isArray(value) ? value.join(', ') : value;
}

function findOperation(doc: CompiledDocument, method: string, path: string): Operation | undefined {
  const lookup = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
  return doc.routes.find((route) => route.method === lookup && route.pattern.test(path))?.operation;
}

function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`).join('; ');
}

/** The contract violations of one answer; empty when it is exactly as documented. */
export function contractViolations(answer: ObservedAnswer): string[] {
  const doc = document();
  const path = answer.url.split('?')[0];
  const method = answer.method.toUpperCase();
  if (isThirdPartyPage(path)) return [];
  const operation = findOperation(doc, method, path);
  const where = operation ? operation.key : `${method} ${path} (no operation)`;
  if (!operation) {
    // Express answers a method or path it has no route for with the catch-all 404 problem.
    if (answer.status !== 404) return [`${method} ${path} is not in the OpenAPI document, yet answered ${answer.status}`];
    const validate = validatorFor(doc, '#/components/schemas/Problem');
    return validate(answer.body) ? [] : [`${method} ${path}: 404 body is not a Problem: ${describeErrors(validate)}`];
  }

  const status = String(answer.status);
  const responseKey = [status, `${status[0]}XX`, 'default'].find((key) => key in operation.responses);
  if (!responseKey) {
    return [`${where}: answered ${status}, which the document does not list (it lists ${Object.keys(operation.responses).join(', ')})`];
  }
  const response = resolve(doc.spec, operation.responses[responseKey]);
  const violations: string[] = [];

  // Headers: the required ones are there, the declared ones that are there are valid, and the
  // ones clients act on are never sent undeclared.
  const declared = Object.fromEntries(
    Object.entries((response.headers ?? {}) as Record<string, Json>).map(([name, header]) => [name.toLowerCase(), resolve(doc.spec, header)]),
  );
  for (const [name, header] of Object.entries(declared)) {
    const value = headerValue(answer.headers, name);
    if (value === undefined) {
      if (header.required === true) violations.push(`${where} ${status}: required header ${name} is missing`);
      continue;
    }
    const schema = header.schema as Json | undefined;
    if (schema) {
      const validate = doc.ajv.compile(schema);
      const typed = schema.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (!validate(typed)) violations.push(`${where} ${status}: header ${name}: ${value}: ${describeErrors(validate)}`);
    }
  }
  for (const name of Object.keys(answer.headers).map((n) => n.toLowerCase())) {
    if (CONTRACT_HEADERS.some((pattern) => pattern.test(name)) && !(name in declared)) {
      violations.push(`${where} ${status}: sends header ${name}, which the document does not declare for this answer`);
    }
  }

  // Body: a documented media type and a body that matches its schema.
  const content = response.content as Record<string, Json> | undefined;
  const contentType = headerValue(answer.headers, 'content-type')?.split(';')[0].trim().toLowerCase();
  const hasBody = method !== 'HEAD' && (answer.text ? answer.text.length > 0 : answer.body !== undefined && !isEmptyObject(answer.body));
  if (!content) {
    if (hasBody) violations.push(`${where} ${status}: the document says no body, the answer has one (${contentType})`);
    return violations;
  }
  if (method === 'HEAD' || (!hasBody && status === '304')) return violations;
  if (!contentType || !(contentType in content)) {
    violations.push(`${where} ${status}: media type ${contentType} is not one of ${Object.keys(content).join(', ')}`);
    return violations;
  }
  const media = content[contentType];
  if (!media.schema) return violations;
  const isJson = /[/+]json$/.test(contentType);
  let body: unknown = isJson ? answer.body : answer.text;
  if (isJson && (body === undefined || isEmptyObject(body)) && answer.text) body = JSON.parse(answer.text);
  if (contentType === 'text/event-stream') return violations; // a stream: its frames are specified in the description
  // Bytes (a download): JSON Schema cannot look inside them; a body is all there is to check.
  if ((media.schema as Json).format === 'binary') {
    if (!hasBody) violations.push(`${where} ${status} ${contentType}: the document says bytes, the answer has no body`);
    return violations;
  }
  const validate = validatorForMedia(doc, operation, responseKey, contentType);
  if (!validate(body)) {
    violations.push(
      `${where} ${status} ${contentType}: body does not match the schema: ${describeErrors(validate)}\n  body: ${JSON.stringify(body)?.slice(0, 800)}`,
    );
  }
  return violations;
}

function validatorForMedia(doc: CompiledDocument, operation: Operation, responseKey: string, contentType: string): ValidateFunction {
  // The response may itself be a $ref (#/components/responses/X): point at the schema where it lives.
  const raw = operation.responses[responseKey];
  const base = typeof raw.$ref === 'string' ? (raw.$ref as string) : `${operation.pointer}/responses/${responseKey}`;
  return validatorFor(doc, `${base}/content/${escapePointer(contentType)}/schema`);
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** The violations of `value` against a schema of the document's components (e.g. a webhook body); empty when valid. */
export function schemaViolations(component: string, value: unknown): string[] {
  const validate = validatorFor(document(), `#/components/schemas/${escapePointer(component)}`);
  return validate(value) ? [] : [describeErrors(validate)];
}

/** Every operation of the document, as `METHOD /path`. */
export function documentedOperations(): string[] {
  return document().routes.map((route) => route.operation.key);
}

function isThirdPartyPage(path: string): boolean {
  return THIRD_PARTY_PAGES.some((page) => page.test(path));
}

/** Throws with every violation of the answer, and counts it: what the request helpers call. */
export function assertContract(answer: ObservedAnswer): void {
  const path = answer.url.split('?')[0];
  if (isThirdPartyPage(path)) {
    contractStats.thirdParty++;
    return;
  }
  contractStats.validated++;
  const operation = findOperation(document(), answer.method, path);
  const key = operation?.key ?? 'no operation (404)';
  contractStats.byOperation.set(key, (contractStats.byOperation.get(key) ?? 0) + 1);
  const violations = contractViolations(answer);
  if (violations.length > 0) {
    throw new Error(`The answer does not match the OpenAPI document (fix the document or the code):\n- ${violations.join('\n- ')}`);
  }
}

/**
 * supertest bound to `app`, with the contract checked on every answer: the check is added when
 * the request is sent (`end`, which `await` calls too), after the test's own `expect`s, so a
 * failing `expect(200)` still reports itself first.
 */
export function contractCheckedRequest(app: Parameters<typeof supertest>[0]): ReturnType<typeof supertest> {
  const agent = supertest(app);
  const checked = { ...agent } as Record<string, unknown>;
  for (const [method, create] of Object.entries(agent) as [string, (url: string) => Test][]) {
    checked[method] = (url: string) => {
      const test = create(url);
      const end = test.end.bind(test);
      test.end = (callback) => {
        test.expect((res: Response) => {
          assertContract({ method: test.method, url, status: res.status, headers: res.headers, body: res.body, text: res.text });
        });
        return end(callback);
      };
      return test;
    };
  }
  return checked as unknown as ReturnType<typeof supertest>;
}

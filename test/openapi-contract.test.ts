import { drainExamples } from '@orgms/api/fleet-migrations/tracked-run.presenter';
import { openApiSpec } from '@orgms/api/openapi/spec';
import { organizationExamples } from '@orgms/api/organizations/organization.presenter';
import { signInExamples } from '@orgms/api/sign-in/sign-in.presenter';
import { expect } from 'chai';
import { contractViolations } from './support/contract';

/**
 * The contract check that stack.request runs on every answer of the suites (support/contract.ts):
 * these specs show that it fails on each kind of drift, so a green suite means an exact document.
 */
describe('OpenAPI contract check', () => {
  const problem = { type: 'https://orgms.dev/problems/conflict', title: 'Conflict', status: 409, detail: 'Taken.', requestId: 'r-12345678' };
  const json = { 'content-type': 'application/json; charset=utf-8' };
  const problemJson = { 'content-type': 'application/problem+json' };

  it('when an answer is exactly as documented, then it passes', () => {
    expect(contractViolations({ method: 'GET', url: '/health', status: 200, headers: json, body: { status: 'ok' } })).to.deep.equal([]);
  });

  it('when an answer has a status the operation does not list, then it fails', () => {
    const [violation] = contractViolations({ method: 'GET', url: '/health', status: 418, headers: json, body: { status: 'ok' } });
    expect(violation).to.match(/answered 418, which the document does not list/);
  });

  it('when a body has a member the schema does not list, then it fails', () => {
    const [violation] = contractViolations({ method: 'POST', url: '/auth/register', status: 409, headers: problemJson, body: { ...problem, stack: 'at x' } });
    expect(violation).to.match(/must NOT have additional properties.*stack/);
  });

  it('when a 409 carries organization_status, then the Conflict schema accepts it', () => {
    const body = { ...problem, organization_status: 'deleted' };
    expect(contractViolations({ method: 'GET', url: '/me', status: 409, headers: problemJson, body })).to.deep.equal([]);
  });

  it('when a required header is missing, then it fails', () => {
    const violations = contractViolations({ method: 'POST', url: '/auth/login', status: 429, headers: problemJson, body: { ...problem, status: 429 } });
    expect(violations.join()).to.match(/required header retry-after is missing/);
  });

  it('when a header clients act on is sent but not declared, then it fails', () => {
    const headers = { ...json, 'ratelimit-remaining': '3' };
    const violations = contractViolations({ method: 'GET', url: '/health', status: 200, headers, body: { status: 'ok' } });
    expect(violations.join()).to.match(/sends header ratelimit-remaining/);
  });

  it('when the media type is not documented, then it fails', () => {
    const [violation] = contractViolations({ method: 'GET', url: '/health', status: 200, headers: { 'content-type': 'text/html' }, text: '<p>ok</p>' });
    expect(violation).to.match(/media type text\/html is not one of application\/json/);
  });

  it('when a binary download answers bytes, then its binary string schema accepts them (export download)', () => {
    const headers = {
      'content-type': 'application/octet-stream',
      'content-length': '5',
      'content-disposition': 'attachment; filename="acme-2026-11-22.dump"',
      'repr-digest': `sha-256=:${'A'.repeat(43)}=:`,
    };
    const url = '/organizations/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab/exports/4f0c2a7e-9d1b-4c1e-8f00-1234567890ac/download';
    expect(contractViolations({ method: 'GET', url, status: 200, headers, body: Buffer.from('PGDMP') })).to.deep.equal([]);
  });

  it('when a path is in no operation, then only the 404 problem of an unknown route passes', () => {
    const notFound = { type: 'https://orgms.dev/problems/not-found', title: 'Not found', status: 404, detail: 'No route GET /nope.' };
    expect(contractViolations({ method: 'GET', url: '/nope', status: 404, headers: problemJson, body: notFound })).to.deep.equal([]);
    expect(contractViolations({ method: 'GET', url: '/nope', status: 200, headers: json, body: {} })).to.have.length(1);
  });
});

describe('OpenAPI document built from the validation schemas', () => {
  const spec = openApiSpec() as { components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>>; required?: string[] }> } };
  const { schemas } = spec.components;

  it('when a Joi schema gives a default, then the document shows it (NewUser.role)', () => {
    expect(schemas.NewUser.properties.role).to.include({ default: 'member' });
    expect(schemas.NewUser.required).to.deep.equal(['email', 'password']);
  });

  it('when a Joi pattern uses the u flag, then the document carries the bare pattern', () => {
    expect(schemas.NewOrganization.properties.organization_name.pattern).to.equal('^[^\\p{C}]+$');
  });

  it('when a Joi object needs at least one key, then the document says minProperties 1 (UserChanges)', () => {
    expect(schemas.UserChanges).to.include({ minProperties: 1, additionalProperties: false });
  });

  it('when an export is downloaded, then the document gives its body a binary string schema, so typed clients get a body type', () => {
    type Answer = { $ref?: string; content: Record<string, unknown> };
    const spec = openApiSpec() as {
      paths: Record<string, Record<string, { responses: Record<string, Answer> }>>;
      components: { responses: Record<string, Answer> };
    };
    const answer = spec.paths['/organizations/{id}/exports/{exportId}/download'].get.responses['200'];
    const download = (answer.$ref ? spec.components.responses[answer.$ref.split('/').pop() as string] : answer).content;
    expect(download).to.deep.equal({ 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } });
  });

  it('when an answer nests a named shape, then the document refers to it instead of repeating it', () => {
    expect(schemas.OrganizationList.properties.items).to.deep.equal({ type: 'array', items: { $ref: '#/components/schemas/Organization' } });
  });
});

describe('OpenAPI annotations say only what is particular to their operation', () => {
  type Operation = { responses: Record<string, { $ref?: string }> } & Record<string, unknown>;
  const paths = (openApiSpec() as { paths: Record<string, Record<string, Operation>> }).paths;
  const problems = (operation: Operation) => Object.fromEntries(Object.entries(operation.responses).map(([status, r]) => [status, r.$ref?.split('/').pop()]));

  it('when an operation lists its particular problems, then it also answers those of its shape (body, parameters, token)', () => {
    const createWebhook = paths['/webhooks'].post;
    expect(problems(createWebhook)).to.include({
      '400': 'BadRequest',
      '401': 'Unauthorized',
      '403': 'Forbidden',
      '413': 'PayloadTooLarge',
      '415': 'UnsupportedMediaType',
      '503': 'ServiceUnavailable',
    });
    expect(createWebhook).not.to.have.property('x-problems');
  });

  it('when an operation answers a status with its own problem, then the problem of its shape does not replace it (a failed login)', () => {
    expect(problems(paths['/auth/login'].post)).to.include({ '401': 'LoginFailed', '429': 'TooManyRequests' });
    expect(problems(paths['/organizations'].get)).not.to.have.property('413');
  });

  it('when a path lists the parameters its operations share, then each operation lists them ahead of its own and the path lists none', () => {
    const refs = (operation: Operation) => (operation.parameters as { $ref: string }[]).map(({ $ref }) => $ref.split('/').pop());
    const user = paths['/organizations/{id}/users/{userId}'] as Record<string, Operation>;
    expect(refs(user.get)).to.deep.equal(['OrganizationId', 'UserId']);
    expect(refs(user.delete)).to.deep.equal(['OrganizationId', 'UserId']);
    expect(refs(paths['/organizations/{id}/users'].get)).to.deep.equal(['OrganizationId', 'Limit', 'Cursor']);
    expect(user).not.to.have.property('parameters');
    // An operation that takes only a path parameter is validated, so it still answers 400.
    expect(problems(paths['/webhooks/{id}'].delete)).to.include({ '400': 'BadRequest' });
  });

  it('when a route block names its tags at its top, then each of its operations carries them unless it names its own', () => {
    expect(paths['/webhooks/{id}'].delete.tags).to.deep.equal(['Webhooks']);
    expect(paths['/migrations/runs'].get.tags).to.deep.equal(['Migrations']);
    expect(paths['/admin/orphans'].get.tags).to.deep.equal(['Operations']);
    const tags = (openApiSpec() as { tags: { name: string }[] }).tags.map(({ name }) => name);
    expect(tags).to.deep.equal(['Auth', 'Organizations', 'Lifecycle', 'Users', 'Migrations', 'Webhooks', 'Audit', 'Operations', 'Compatibility']);
  });

  it('when a compatibility path is the same operation as another (x-same-as), then it is documented in full under its own operationId', () => {
    const { operationId, ...copy } = paths['/organization/create'].post;
    const { operationId: originalId, ...original } = paths['/org/create'].post;
    expect(copy).to.deep.equal(original);
    expect([operationId, originalId]).to.deep.equal(['postOrganizationCreate', 'postOrgCreate']);
    expect(paths['/organization/create']).not.to.have.property('x-same-as');
  });

  it("when an answer shows an example organization, then it is the presenter's own rendering of its fixture", () => {
    type Answer = { content: { 'application/json': { examples: Record<string, { $ref: string }> } } };
    const spec = openApiSpec() as { components: { examples: Record<string, { value: unknown }>; responses: Record<string, Answer> } };
    // The operation references a shared answer (components.responses), which references the example.
    const answer = spec.components.responses[(paths['/organizations'].post.responses['202'].$ref as string).split('/').pop() as string];
    const [{ $ref }] = Object.values(answer.content['application/json'].examples);
    expect(spec.components.examples[$ref.split('/').pop() as string].value).to.deep.equal(organizationExamples.PendingOrganization);
    expect(organizationExamples.PendingOrganization).to.include({ status: 'pending', purge_after: null });
  });

  it("when a login, a refresh or a drain answer shows an example, then it is its presenter's rendering of a fixture", () => {
    type Answer = { content: { 'application/json': { examples: Record<string, { $ref: string }> } } };
    const spec = openApiSpec() as { components: { examples: Record<string, { value: unknown }>; responses: Record<string, Answer> } };
    const exampleOf = (operation: Operation, status: string) => {
      const answer = spec.components.responses[(operation.responses[status].$ref as string).split('/').pop() as string];
      const [{ $ref }] = Object.values(answer.content['application/json'].examples);
      return spec.components.examples[$ref.split('/').pop() as string].value;
    };
    expect(exampleOf(paths['/auth/login'].post, '200')).to.deep.equal(signInExamples.PlatformAdminSession);
    expect(exampleOf(paths['/auth/refresh'].post, '200')).to.deep.equal(signInExamples.RefreshedSession);
    expect(exampleOf(paths['/database-servers/{id}/drains/{drainId}'].get, '200')).to.deep.equal(drainExamples.CompletedDrainWithFailure);
  });
});

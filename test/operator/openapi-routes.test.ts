import { openApiSpec } from '@orgms/api/openapi/spec';
import { expect } from 'chai';
import type { Express } from 'express';
import { startStack, type TestStack } from '../support/stack';

/** Static assets behind documented pages: not API operations, so not in the spec. */
const ASSET_ROUTES = new Set(['GET /redoc/init.js', 'USE /redoc/assets', 'USE /docs']);

interface Layer {
  rawPath?: string | string[];
  slash?: boolean;
  route?: { path: string | string[]; methods: Record<string, boolean>; stack: Layer[] };
  handle: { stack?: Layer[] };
}

/** Every `METHOD /path` Express answers, in OpenAPI's `{param}` form; mounted sub-apps as `USE /path`. */
function expressRoutes(app: Express): Set<string> {
  const found = new Set<string>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods)) {
          for (const path of paths) found.add(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (!layer.slash) {
        found.add(`USE ${layer.rawPath}`); // middleware or a sub-app mounted at a path
      } else if (layer.handle.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

function specRoutes(): Set<string> {
  const found = new Set<string>();
  const paths = openApiSpec().paths as Record<string, Record<string, unknown>>;
  for (const [path, operations] of Object.entries(paths)) {
    for (const method of Object.keys(operations)) if (method !== 'parameters') found.add(`${method.toUpperCase()} ${path}`);
  }
  return found;
}

describe('The OpenAPI document', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  it('when compared with the Express app, then every route is documented and every documented route exists', () => {
    const routes = expressRoutes(stack.api.app);
    // Bull Board is a mounted dashboard; the spec documents its entry page.
    if (routes.delete('USE /admin/queues')) routes.add('GET /admin/queues');
    for (const asset of ASSET_ROUTES) routes.delete(asset);
    const documented = specRoutes();
    expect([...routes].filter((r) => !documented.has(r)).sort(), 'routes missing from the spec').to.deep.equal([]);
    expect([...documented].filter((r) => !routes.has(r)).sort(), 'documented routes that do not exist').to.deep.equal([]);
  });

  it('when an operation is documented, then it has a summary, a description for newcomers and its responses', () => {
    const paths = openApiSpec().paths as Record<string, Record<string, { summary?: string; description?: string; responses?: Record<string, unknown> }>>;
    const lacking: string[] = [];
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(operations)) {
        if (!op.summary || !op.description || !op.responses || Object.keys(op.responses).length === 0) lacking.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(lacking).to.deep.equal([]);
  });

  it('when compatibility routes are documented, then they are tagged as such', () => {
    const paths = openApiSpec().paths as Record<string, Record<string, { tags?: string[] }>>;
    for (const path of ['/org/create', '/org/get', '/org/update', '/org/delete', '/organization/create', '/organization', '/user/create', '/user/list']) {
      for (const op of Object.values(paths[path] ?? {})) expect(op.tags, path).to.include('Compatibility');
    }
  });
});

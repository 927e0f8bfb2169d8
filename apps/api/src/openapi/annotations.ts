import { readdirSync } from 'node:fs';
import path from 'node:path';
import swaggerJsdoc from 'swagger-jsdoc';
import { problemStatus, problemsOfShape } from './components';

interface Operation {
  tags?: string[];
  operationId?: string;
  parameters?: unknown[];
  requestBody?: unknown;
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
  'x-problems'?: (keyof typeof problemStatus)[];
}
/** Each path's operations by method. */
type Paths = Record<string, Record<string, Operation>>;
/** A path as a block writes it: its operations, and what they share (`parameters`) or repeat (`x-same-as`). */
type AnnotatedPath = { parameters?: unknown[]; 'x-same-as'?: string } & Record<string, unknown>;

const API_ROOT = path.join(__dirname, '..');

/** The files with `@openapi` blocks: every capability's `*.routes` and the operator pages mounted outside them. */
function annotatedFiles(): string[] {
  const annotated = (folder: string, file: string) =>
    /\.routes\.(ts|js)$/.test(file) || (folder === 'operator' && /^(bull-board|metrics)\.(ts|js)$/.test(file));
  const folders = readdirSync(API_ROOT, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  const files = folders.flatMap(({ name }) =>
    readdirSync(path.join(API_ROOT, name))
      .filter((file) => annotated(name, file))
      .map((file) => `${name}/${file}`),
  );
  // Route files, then the operator pages, each alphabetically: the document's order of paths, the same on every machine.
  const routesFirst = (file: string) => (/\.routes\./.test(file) ? 0 : 1);
  return files.sort((a, b) => routesFirst(a) - routesFirst(b) || a.localeCompare(b, 'en')).map((file) => path.join(API_ROOT, file));
}

/**
 * One file's paths, with its block's shorthands expanded: the tags named at the top of the block
 * go to each operation that names none; parameters written on a path go into each of its
 * operations, ahead of their own, so an operation lists every parameter it takes (the 400 rule
 * below and the typed client read operations alone); `x-same-as: /other` is that path's
 * operations again (a compatibility route that is the same operation).
 */
function pathsOf(file: string): Paths {
  const block = swaggerJsdoc({ definition: { openapi: '3.1.0', info: { title: file, version: '0' }, tags: [] }, apis: [file], failOnErrors: true }) as {
    paths: Record<string, AnnotatedPath>;
    tags: { name: string }[];
  };
  const tags = block.tags.map(({ name }) => name);
  const expanded: Paths = {};
  for (const [route, { parameters: shared, 'x-same-as': sameAs, ...operations }] of Object.entries(block.paths)) {
    if (sameAs) continue;
    expanded[route] = Object.fromEntries(
      Object.entries(operations as Record<string, Operation>).map(([method, operation]) => [
        method,
        { tags, ...operation, ...(shared && { parameters: [...shared, ...(operation.parameters ?? [])] }) },
      ]),
    );
  }
  return Object.fromEntries(
    Object.entries(block.paths).map(([route, { 'x-same-as': sameAs }]) => [route, sameAs ? structuredClone(expanded[sameAs]) : expanded[route]]),
  );
}

/** `get /organizations/{id}/status` → `getOrganizationsIdStatus`, for operations that name none. */
function nameOperations(paths: Paths): void {
  for (const [route, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const words = route.split(/[^A-Za-z0-9]+/).filter(Boolean);
      operation.operationId ??= method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
    }
  }
}

/**
 * An annotation lists in `x-problems` only the problems particular to its operation (`[Forbidden,
 * NotFound]`); the ones its shape implies are added here, each under its status unless the
 * annotation answers that status itself (`'401': LoginFailed`): 400 when it takes parameters or a
 * body, 413 and 415 with a body, 401 with a bearer token, 503 always.
 */
function addProblems(paths: Paths): void {
  for (const operation of Object.values(paths).flatMap((operations) => Object.values(operations))) {
    const particular = operation['x-problems'];
    if (!particular) continue;
    delete operation['x-problems'];
    const usesToken = (operation.security ?? [{ bearerAuth: [] }]).some((scheme) => 'bearerAuth' in scheme);
    const names = [
      ...particular,
      ...problemsOfShape.always,
      ...(operation.parameters?.length || operation.requestBody ? problemsOfShape.validated : []),
      ...(operation.requestBody ? problemsOfShape.body : []),
      ...(usesToken ? problemsOfShape.token : []),
    ];
    // Integer-like keys keep ascending order in JavaScript objects, so the statuses stay sorted.
    for (const name of names) operation.responses[problemStatus[name]] ??= { $ref: `#/components/responses/${name}` };
    if (usesToken) addRateLimitHeaders(operation);
  }
}

/**
 * A request whose token is accepted is counted against its request rate, and every answer then
 * tells the limit: the operation's own answers declare the RateLimit headers (shared answers and
 * problem responses declare them in answers.ts and components.ts).
 */
function addRateLimitHeaders(operation: Operation): void {
  for (const response of Object.values(operation.responses) as { $ref?: string; headers?: Record<string, unknown> }[]) {
    if (response.$ref) continue;
    response.headers = {
      ...response.headers,
      'RateLimit-Policy': { $ref: '#/components/headers/RateLimitPolicy' },
      RateLimit: { $ref: '#/components/headers/RateLimit' },
    };
  }
}

/**
 * The document's paths, read by swagger-jsdoc from the `@openapi` blocks next to the code they
 * describe (from `src` under tsx and from `dist`, where tsc keeps comments), with every shorthand
 * of the blocks expanded, so the document is plain OpenAPI.
 */
export function annotatedPaths(): Paths {
  const paths: Paths = {};
  for (const file of annotatedFiles()) {
    for (const [route, item] of Object.entries(pathsOf(file))) paths[route] = { ...paths[route], ...item };
  }
  addProblems(paths);
  nameOperations(paths);
  return paths;
}

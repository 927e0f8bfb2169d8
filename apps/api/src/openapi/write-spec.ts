/** `npm run openapi:write [file]`: writes the OpenAPI document (default dist/openapi.json) for linters and clients. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openApiSpec } from './spec';

const target = path.resolve(process.argv[2] ?? 'dist/openapi.json');
mkdirSync(path.dirname(target), { recursive: true });
writeFileSync(target, `${JSON.stringify(openApiSpec(), null, 2)}\n`);
console.log(`OpenAPI document written to ${target}`);

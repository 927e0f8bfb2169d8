import type { RequestClass } from '@orgms/common/limits/organization-limits';

/** Methods that only read; everything else changes something. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * `POST …/<action>` that starts long work on a whole organization database (a pg_dump: an export or a backup, a copy to
 * another server, every organization of a server, bringing a deleted one back).
 */
const EXPENSIVE_ACTION = /\/(exports|backups|move|drain|restore)\/?$/;

/** Which request rate a request counts in: each counts in exactly one class. */
export function requestClassOf(method: string, path: string): RequestClass {
  if (READ_METHODS.has(method)) return 'reads';
  return method === 'POST' && EXPENSIVE_ACTION.test(path) ? 'expensive' : 'writes';
}

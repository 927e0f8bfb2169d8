import type { Config } from '@orgms/common/config';

/** The long-running processes the image runs, by the script their command line names. */
const ROLE_SCRIPTS = { api: 'apps/api/dist/main.js', worker: 'apps/worker/dist/main.js' } as const;
export type ProcessRole = keyof typeof ROLE_SCRIPTS;

/**
 * The role of a process from its command line (`/proc/<pid>/cmdline`, NUL-separated), if it is
 * node running one of ours. A shell that starts it is not the process; its node child is.
 */
export function roleOfCommandLine(argv: string[]): ProcessRole | undefined {
  if (!/(^|\/)node$/.test(argv[0] ?? '')) return undefined;
  const script = argv.slice(1).find((arg) => !arg.startsWith('-'));
  if (!script) return undefined;
  return (Object.keys(ROLE_SCRIPTS) as ProcessRole[]).find((role) => script.endsWith(ROLE_SCRIPTS[role]));
}

/**
 * What tells that a process of this role is healthy, from the same configuration it runs with:
 * the API's `/ready` (its control database and Redis answer), the worker's `/health` on its
 * metrics port. None for a worker whose metrics port is off (`WORKER_METRICS_PORT=0`): its
 * process running is all there is to check.
 */
export function healthUrlOf(role: ProcessRole, config: Config): string | undefined {
  if (role === 'api') return `http://127.0.0.1:${config.http.port}/ready`;
  const { port, host } = config.worker.metrics;
  if (port === 0) return undefined;
  // A wildcard address listens on loopback too.
  const address = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}/health`;
}

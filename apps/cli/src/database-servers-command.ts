import { createDatabaseServerBody, databaseServerName, newDatabaseServerOf } from '@orgms/api/fleet/database-servers.schemas';
import type { DatabaseServerBody } from '@orgms/api/fleet/fleet.responses';
import { checkAgainst } from '@orgms/api/http/validate';
import type { NewDatabaseServer } from '@orgms/common/fleet/database-server-store';
import Joi from 'joi';
import { parseArgs } from './args';

const COMMANDS = ['add', 'list', 'drain'] as const;
type Command = (typeof COMMANDS)[number];

export type DatabaseServersCommand = { command: 'add'; server: NewDatabaseServer } | { command: 'list' } | { command: 'drain'; name: string };

const drainArgs = Joi.object({ name: databaseServerName.required() });

const USAGE: Record<Command, string> = {
  add:
    'npm run servers:add -- --name pg-b --admin-url postgres://user:pass@host:5432/postgres [--pool-url postgres://…:6432/postgres] ' +
    '--capacity 500 --connection-budget 40 [--tenant-roles false] [--status draining]',
  list: 'npm run servers:list',
  drain: 'npm run servers:drain -- --name pg-a',
};

/** `raw` checked by `schema` as the API checks a request; an Error with the API's messages and the usage otherwise. */
function checked<T>(command: Command, schema: Joi.ObjectSchema<T>, raw: Record<string, string>): T {
  const { value, errors } = checkAgainst(schema, raw);
  if (errors.length > 0) throw new Error(`${errors.map((e) => e.message).join('; ')}. Usage: ${USAGE[command]}`);
  return value;
}

/**
 * `add --name pg-b --admin-url … --capacity 500 --connection-budget 40` → the command, checked; an
 * Error that shows the usage otherwise. `add`'s options are the fields of `POST /database-servers`
 * with dashes (`--admin-url` is `admin_url`), checked by that route's schema: the CLI refuses what
 * the API refuses, with the same words.
 */
export function parseDatabaseServersCommand(argv: string[]): DatabaseServersCommand {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as Command)) throw new Error(`unknown command "${command ?? ''}"; one of: ${COMMANDS.join(', ')}`);
  const args = parseArgs(rest);
  switch (command as Command) {
    case 'add': {
      const body = Object.fromEntries(Object.entries(args).map(([option, value]) => [option.replaceAll('-', '_'), value]));
      return { command: 'add', server: newDatabaseServerOf(checked('add', createDatabaseServerBody, body)) };
    }
    case 'drain':
      return { command: 'drain', name: checked('drain', drainArgs, args).name };
    default:
      return { command: 'list' };
  }
}

/** The fleet as a plain-text table: one line per server as `GET /database-servers` shows it (URLs masked). */
export function formatServerTable(servers: DatabaseServerBody[]): string {
  const header = ['NAME', 'STATUS', 'ORGS/CAPACITY', 'BUDGET', 'ADMIN URL', 'POOL URL'];
  const lines = servers.map((s) => [s.name, s.status, `${s.organizations}/${s.capacity}`, String(s.connection_budget), s.admin_url, s.pool_url ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  return [header, ...lines].map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

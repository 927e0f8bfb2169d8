import Joi from 'joi';
import { parseArgs } from './args';

const COMMANDS = ['add', 'list', 'drain'] as const;
type Command = (typeof COMMANDS)[number];

export type DatabaseServersCommand =
  | { command: 'add'; name: string; adminUrl: string; poolUrl: string | null; capacity: number; budget: number; tenantRoles: boolean }
  | { command: 'list' }
  | { command: 'drain'; name: string };

// The API's rules (apps/api/src/validation/database-servers.schemas.ts), so the CLI refuses what the API would.
const name = Joi.string()
  .pattern(/^[a-z][a-z0-9-]{0,62}$/)
  .required()
  .messages({ 'string.pattern.base': '--name must be lower-case letters, digits and dashes, starting with a letter' });
const url = Joi.string()
  .uri({ scheme: ['postgres', 'postgresql'] })
  .max(2000);

const schemas: Record<Command, Joi.ObjectSchema> = {
  add: Joi.object({
    name,
    'admin-url': url.required(),
    'pool-url': url,
    capacity: Joi.number().integer().min(0).max(1000000).required(),
    budget: Joi.number().integer().min(1).max(10000).default(40),
    'tenant-roles': Joi.boolean().default(true),
  }),
  list: Joi.object({}),
  drain: Joi.object({ name }),
};

const USAGE: Record<Command, string> = {
  add: 'npm run servers:add -- --name pg-b --admin-url postgres://user:pass@host:5432/postgres [--pool-url postgres://…:6432/postgres] --capacity 500 [--budget 40] [--tenant-roles false]',
  list: 'npm run servers:list',
  drain: 'npm run servers:drain -- --name pg-a',
};

/** `add --name pg-b --admin-url … --capacity 500` → the command, checked; an Error that shows the usage otherwise. */
export function parseDatabaseServersCommand(argv: string[]): DatabaseServersCommand {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as Command)) throw new Error(`unknown command "${command ?? ''}"; one of: ${COMMANDS.join(', ')}`);
  const { value, error } = schemas[command as Command].validate(parseArgs(rest), { stripUnknown: true, convert: true });
  if (error) throw new Error(`${error.message}. Usage: ${USAGE[command as Command]}`);
  switch (command as Command) {
    case 'add':
      return {
        command: 'add',
        name: value.name,
        adminUrl: value['admin-url'],
        poolUrl: value['pool-url'] ?? null,
        capacity: value.capacity,
        budget: value.budget,
        tenantRoles: value['tenant-roles'],
      };
    case 'drain':
      return { command: 'drain', name: value.name };
    default:
      return { command: 'list' };
  }
}

export interface ServerRowForTable {
  name: string;
  status: string;
  organizations: number;
  capacity: number;
  connectionBudget: number;
  adminUrl: string;
  poolUrl: string | null;
}

/** The fleet as a plain-text table: one line per server, URLs already masked by the caller. */
export function formatServerTable(rows: ServerRowForTable[]): string {
  const header = ['NAME', 'STATUS', 'ORGS/CAPACITY', 'BUDGET', 'ADMIN URL', 'POOL URL'];
  const lines = rows.map((r) => [r.name, r.status, `${r.organizations}/${r.capacity}`, String(r.connectionBudget), r.adminUrl, r.poolUrl ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  return [header, ...lines].map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

/**
 * Platform admins from the command line (the first one, and what no API route does):
 *   npm run admin:create     -- --email a@b.c --password '…'
 *   npm run admin:password   -- --email a@b.c --password '…'   (revokes the admin's tokens)
 *   npm run admin:deactivate -- --email a@b.c                  (revokes; no login until activated)
 *   npm run admin:activate   -- --email a@b.c
 *   npm run admin:remove     -- --email a@b.c                  (revokes; the row is deleted)
 */

import { loadConfig } from '@orgms/common/config';
import { PlatformAdminStore } from '@orgms/common/control-plane/platform-admin-store';
import { createControlDataSource, ensureControlDatabaseExists, migrateControlDatabase } from '@orgms/common/database/control-data-source';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from '@orgms/common/passwords';
import Joi from 'joi';
import { parseArgs } from './args';

const COMMANDS = ['create', 'password', 'deactivate', 'activate', 'remove'] as const;
type Command = (typeof COMMANDS)[number];

const email = Joi.string().email({ tlds: false }).max(254).required();
// Bytes, as the API counts them: bcrypt reads 72 bytes at most, so a longer password would be cut.
const password = Joi.string()
  .min(PASSWORD_MIN_LENGTH)
  .custom((value: string, helpers) => (Buffer.byteLength(value, 'utf8') > PASSWORD_MAX_BYTES ? helpers.error('string.maxBytes') : value))
  .messages({ 'string.maxBytes': `password must be at most ${PASSWORD_MAX_BYTES} bytes` })
  .required();

const schemas: Record<Command, Joi.ObjectSchema> = {
  create: Joi.object({ email, password }),
  password: Joi.object({ email, password }),
  deactivate: Joi.object({ email }),
  activate: Joi.object({ email }),
  remove: Joi.object({ email }),
};

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (!COMMANDS.includes(command as Command)) throw new Error(`unknown command "${command ?? ''}"; one of: ${COMMANDS.join(', ')}`);
  const { value, error } = schemas[command as Command].validate(parseArgs(rest), { stripUnknown: true });
  if (error)
    throw new Error(
      `${error.message}. Usage: npm run admin:${command} -- --email <email>${command === 'create' || command === 'password' ? ' --password <password>' : ''}`,
    );
  const { database, auth } = loadConfig();
  await ensureControlDatabaseExists(database);
  const dataSource = await createControlDataSource(database, 2).initialize();
  try {
    await migrateControlDatabase(dataSource);
    const admins = new PlatformAdminStore(dataSource);
    switch (command as Command) {
      case 'create': {
        const admin = await admins.create(value.email, value.password, auth.bcryptRounds);
        console.log(`platform admin ${admin.email} created (id ${admin.id})`);
        break;
      }
      case 'password':
        await admins.changePassword(value.email, value.password, auth.bcryptRounds);
        console.log(`password of ${value.email} changed; its earlier tokens are revoked`);
        break;
      case 'deactivate':
        await admins.deactivate(value.email);
        console.log(`${value.email} deactivated; its tokens are revoked`);
        break;
      case 'activate':
        await admins.activate(value.email);
        console.log(`${value.email} activated`);
        break;
      case 'remove':
        await admins.remove(value.email);
        console.log(`${value.email} removed; its tokens are revoked`);
        break;
    }
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(`admin: ${(error as Error).message}`);
  process.exit(1);
});

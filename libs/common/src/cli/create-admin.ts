/** `npm run admin:create -- --email a@b.c --password 'long enough'`: add a platform admin. */
import Joi from 'joi';
import { loadConfig } from '../config';
import { createPlatformAdmin } from '../control-plane/platform-admins';
import { createControlDataSource, ensureControlDatabaseExists, migrateControlDatabase } from '../database/control-data-source';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from '../passwords';
import { parseArgs } from './args';

const argsSchema = Joi.object({
  email: Joi.string().email({ tlds: false }).max(254).required(),
  password: Joi.string().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_BYTES).required(),
});

async function main(): Promise<void> {
  const { value, error } = argsSchema.validate(parseArgs(process.argv.slice(2)), { stripUnknown: true });
  if (error) throw new Error(`${error.message}. Usage: npm run admin:create -- --email <email> --password <password>`);
  const config = loadConfig();
  await ensureControlDatabaseExists(config);
  const dataSource = await createControlDataSource(config, 2).initialize();
  try {
    await migrateControlDatabase(dataSource);
    const admin = await createPlatformAdmin(dataSource, value.email, value.password, config.bcryptRounds);
    console.log(`platform admin ${admin.email} created (id ${admin.id})`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(`admin:create failed: ${(error as Error).message}`);
  process.exit(1);
});

import { withDatabase } from '@orgms/common/database/database-urls';
import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { Client } from 'pg';
import type { TestStack } from './stack';

/** The database of an organization, as the service names it. */
export function databaseOf(stack: TestStack, orgId: string): string {
  return databaseNameFor(orgId, stack.config.tenancy.databasePrefix);
}

/** Runs `fn` with a direct connection to `database` on the org server (maintenance db by default). */
export async function withClient<T>(stack: TestStack, fn: (client: Client) => Promise<T>, database = 'postgres'): Promise<T> {
  const client = new Client({ connectionString: withDatabase(stack.config.tenancy.serverUrl, database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function databaseExists(stack: TestStack, name: string): Promise<boolean> {
  return withClient(stack, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
}

import { Client } from 'pg';
import type { TestStack } from './stack';

/**
 * Runs SQL on the suite's control database over a connection of its own: for checking what the
 * service wrote (or did not), and for setting up states no route makes. The service's stores
 * stay the only code of the service that touches these tables.
 */
export async function queryControlDatabase<T = Record<string, unknown>>(stack: Pick<TestStack, 'config'>, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: stack.config.database.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

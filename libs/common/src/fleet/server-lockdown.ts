import { type LockDownOutcome, lockDownSharedDatabases, SERVER_DATABASES } from '../database/shared-databases';
import type { Logger } from '../logger';
import { templateNameFor } from '../tenancy/database-names';
import type { DatabaseServer } from './database-server-store';

/**
 * Closes a fleet server's shared databases (`postgres`, `template1`, our template) to PUBLIC, and
 * so to the organizations' roles on it; its admin role and its pool URL's role keep CONNECT. Run
 * when the fleet starts and when a server is registered or its URLs change. Never throws: an
 * unreachable server is logged (the next start tries again), and the step's outcome returned.
 */
export async function lockDownServer(
  server: Pick<DatabaseServer, 'name' | 'adminUrl' | 'poolUrl'>,
  databasePrefix: string,
  logger: Logger,
): Promise<LockDownOutcome | undefined> {
  const poolRole = server.poolUrl ? decodeURIComponent(new URL(server.poolUrl).username) : '';
  try {
    return await lockDownSharedDatabases(
      server.adminUrl,
      [...SERVER_DATABASES, templateNameFor(databasePrefix)],
      poolRole ? [poolRole] : [],
      logger.child({ server: server.name }),
    );
  } catch (error) {
    logger.warn('could not close the shared databases of a database server to organization roles', { server: server.name, error: (error as Error).message });
    return undefined;
  }
}

/**
 * `npm run limits:apply`: starts a run setting every active organization's database limits on
 * its role (the same as POST /database-limits/runs) and follows it until it completes. A worker
 * must be running to do the work. Exits 1 if any organization failed; `--no-wait` only starts it.
 */
import { startDatabaseLimitsRun } from '@orgms/common/queues/migrations-queue';
import { runTrackedRunCommand } from './tracked-run-command';

runTrackedRunCommand('database_limits', 'database limits', startDatabaseLimitsRun);

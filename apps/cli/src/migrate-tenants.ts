/**
 * `npm run tenants:migrate`: starts a fleet migration run (the same as POST /migrations/runs)
 * and follows it until it completes. A worker must be running to do the work. Exits 1 if any
 * organization failed; `--no-wait` only starts the run and prints its id.
 */
import { startMigrationRun } from '@orgms/common/queues/migrations-queue';
import { runTrackedRunCommand } from './tracked-run-command';

runTrackedRunCommand('migration', 'tenant migration', startMigrationRun);

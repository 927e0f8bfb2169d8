import { loadConfigOrExit } from '@orgms/common/config';
import { createLogger } from '@orgms/common/logger';
import { stopOnSignals } from '@orgms/common/process/shutdown';
import { startWorkerRuntime } from './worker-runtime';

const config = loadConfigOrExit();
const logger = createLogger('worker', config.runtime.logLevel);
const runtime = startWorkerRuntime(config, logger);
runtime.ready.catch((error) => logger.error('worker failed to start', { error }));
stopOnSignals(runtime.stop, logger);

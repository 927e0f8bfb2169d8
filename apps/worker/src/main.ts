import { createLogger, loadConfigOrExit, stopOnSignals } from '@orgms/common';
import { startWorkerRuntime } from './worker-runtime';

const config = loadConfigOrExit();
const logger = createLogger('worker', config.logLevel);
const runtime = startWorkerRuntime(config, logger);
runtime.ready.catch((error) => logger.error('worker failed to start', { error }));
stopOnSignals(runtime.stop, logger);

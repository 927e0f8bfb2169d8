import type { Logger } from '../logger';
import { stopTracing } from '../tracing/tracing';
import { TimeoutError, withTimeout } from './timeout';

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
}

/**
 * Runs the steps in order (for example: stop accepting work, finish work, close pools, close
 * Redis), each bounded by what is left of `timeoutMs`, so a stuck step cannot hold the process.
 * Returns false when a step failed or ran out of time.
 */
export async function shutdownInOrder(steps: ShutdownStep[], timeoutMs: number, logger: Logger): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let clean = true;
  for (const step of steps) {
    try {
      await withTimeout(step.run(), Math.max(deadline - Date.now(), 0), `shutdown step "${step.name}"`);
    } catch (error) {
      clean = false;
      logger.warn(error instanceof TimeoutError ? 'shutdown step timed out' : 'shutdown step failed', { step: step.name, error: (error as Error).message });
    }
  }
  return clean;
}

/**
 * Calls `stop` once on the first SIGINT/SIGTERM, then exits (after exporting the spans still
 * buffered, when tracing is on); a second signal exits at once.
 */
export function stopOnSignals(stop: () => Promise<boolean>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info('shutting down', { signal });
    const exit = (code: number) =>
      withTimeout(stopTracing(), 2000, 'exporting the last spans')
        .catch((error) => logger.warn('could not export the last spans', { error: (error as Error).message }))
        .finally(() => process.exit(code));
    stop().then(
      (clean) => exit(clean ? 0 : 1),
      () => exit(1),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

import { startTracing } from './start-tracing';

/**
 * What each process's main.ts runs first: tracing (when OTEL_TRACES_EXPORTER asks for it), then
 * the process itself, imported only afterwards so that http, express, pg and ioredis are
 * instrumented when they are first required. Tracing that cannot start is reported and left off:
 * it never keeps the service from running.
 */
export async function startProcessWithTracing(serviceName: string, startProcess: () => Promise<unknown>): Promise<void> {
  try {
    await startTracing(serviceName);
  } catch (error) {
    process.stderr.write(
      `${JSON.stringify({ level: 'error', message: 'tracing could not start; running without it', service: serviceName, error: (error as Error).message })}\n`,
    );
  }
  await startProcess();
}

import type { Telemetry } from 'bullmq';

/**
 * What the rest of the service asks of tracing. It stays empty until start-tracing.ts turns
 * tracing on, so that with tracing off nothing of OpenTelemetry is loaded and every hook below
 * costs one `undefined` check.
 */
export interface ActiveTracing {
  /** BullMQ's telemetry (bullmq-otel): a job's span continues the trace of the code that added it. */
  queueTelemetry: Telemetry;
  /** The active span's ids, for log lines. */
  currentIds(): TraceIds | undefined;
  /** The active span as a W3C `traceparent`, to continue its trace later (a stored webhook delivery). */
  currentTraceParent(): string | undefined;
  /**
   * Runs `fn` inside a new span, ended (and marked failed on a throw) when it settles: a child of
   * `parent` (a `traceparent`) when given, of the active span otherwise.
   */
  inSpan<T>(name: string, attributes: Record<string, string | number | boolean>, fn: () => Promise<T>, parent?: string): Promise<T>;
  /** Exports the spans still buffered; called once when the process stops. */
  shutdown(): Promise<void>;
}

export interface TraceIds {
  traceId: string;
  spanId: string;
}

let active: ActiveTracing | undefined;

export function activateTracing(tracing: ActiveTracing): void {
  active = tracing;
}

/** The BullMQ `telemetry` option of every Queue and Worker: undefined (BullMQ's default) when tracing is off. */
export function queueTelemetry(): Telemetry | undefined {
  return active?.queueTelemetry;
}

export function currentTraceIds(): TraceIds | undefined {
  return active?.currentIds();
}

export function currentTraceParent(): string | undefined {
  return active?.currentTraceParent();
}

/** `fn` inside a span named `name` (a child of `parent`, a `traceparent`, when given) when tracing is on; just `fn` otherwise. */
export function withSpan<T>(name: string, attributes: Record<string, string | number | boolean>, fn: () => Promise<T>, parent?: string): Promise<T> {
  return active ? active.inSpan(name, attributes, fn, parent) : fn();
}

/** Exports what is still buffered before the process exits (nothing to do when tracing is off). */
export async function stopTracing(): Promise<void> {
  await active?.shutdown();
}

import 'dotenv/config';
import { activateTracing } from './tracing';

/** The exporters of OTEL_TRACES_EXPORTER that produce spans (`none` and unknown names do not). */
function tracesExporters(): string[] {
  return (process.env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name === 'otlp' || name === 'console');
}

/**
 * SQL text with every string literal replaced by `'?'`. Values travel as parameters, which spans
 * never carry; literals appear only in statements formatted for DDL, where one can be a secret
 * (a role's password verifier), so none reaches a trace backend.
 */
export function withoutLiterals(sql: string): string {
  // Quoted identifiers are matched too, so a quote inside one starts no literal; they stay as they are.
  return sql.replace(/"(?:[^"]|"")*"|'(?:[^']|'')*'/g, (quoted) => (quoted.startsWith('"') ? quoted : "'?'"));
}

/** Requests that are not work: health checks and scrapes would otherwise each be a trace. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * Turns OpenTelemetry on when OTEL_TRACES_EXPORTER asks for spans, before the process loads
 * anything it instruments: each main.ts awaits this, then imports the rest of the process, so
 * http, express, pg and ioredis are patched as they are first required. Everything else comes from
 * OpenTelemetry's standard variables (exporter, endpoint, protocol, sampler), read by the SDK.
 * When tracing is off nothing of OpenTelemetry is imported at all.
 */
export async function startTracing(defaultServiceName: string): Promise<void> {
  if (tracesExporters().length === 0) return;
  const [
    api,
    { NodeSDK },
    { HttpInstrumentation },
    { ExpressInstrumentation, ExpressLayerType },
    { PgInstrumentation },
    { IORedisInstrumentation },
    { BullMQOtel },
  ] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-express'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('bullmq-otel'),
  ]);
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME, when set, names the process; otherwise the API and the worker differ.
    serviceName: process.env.OTEL_SERVICE_NAME ? undefined : defaultServiceName,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]) }),
      // Routers and handlers only: a span per middleware (about fifteen a request) costs more than it tells.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      // Only inside a trace: BullMQ's blocking reads and the pools' idle checks would each be a trace of their own.
      new PgInstrumentation({
        requireParentSpan: true,
        requestHook: (span, { query }) => span.setAttribute('db.query.text', withoutLiterals(query.text)),
      }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
    // Traces only: metrics stay with Prometheus (/metrics), logs with winston.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  const tracer = api.trace.getTracer('orgms');
  activateTracing({
    queueTelemetry: new BullMQOtel({ tracerName: 'bullmq' }),
    currentIds() {
      const context = api.trace.getActiveSpan()?.spanContext();
      return context && api.isSpanContextValid(context) ? { traceId: context.traceId, spanId: context.spanId } : undefined;
    },
    currentTraceParent() {
      const carrier: Record<string, string> = {};
      api.propagation.inject(api.context.active(), carrier);
      return carrier.traceparent;
    },
    inSpan(name, attributes, fn, parent) {
      const parentContext = parent ? api.propagation.extract(api.context.active(), { traceparent: parent }) : api.context.active();
      return tracer.startActiveSpan(name, { attributes }, parentContext, async (span) => {
        try {
          return await fn();
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      });
    },
    shutdown: () => sdk.shutdown(),
  });
}

import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROVISIONING_STEPS } from '@orgms/common/organizations/organization-status';
import { expect } from 'chai';
import { builtService, startApi, startWorker } from '../../harness/built-service';
import { isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import type { ServiceProcess } from '../../harness/service-process';
import { waitUntil } from '../../harness/wait';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { ApiClient, endFaultTest, waitForStatuses } from '../support/service-processes';

/** OTLP's span kinds (the numbers of its JSON encoding). */
const SERVER = 2;
const CONSUMER = 5;
const CLIENT = 3;

/** A webhook receiver that answers 204 and keeps the headers of each delivery. */
async function startWebhookReceiver(): Promise<{ server: Server; url: string; received: IncomingHttpHeaders[] }> {
  const received: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    received.push(request.headers);
    request.resume();
    response.writeHead(204).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received };
}

describe('Traces: one organization creation is one trace across the API and the worker', function () {
  this.timeout(60000);
  let fe: ServiceEnv | undefined;
  let receiver: OtlpReceiver | undefined;
  let webhooks: Server | undefined;

  afterEach(async function () {
    await endFaultTest(this.currentTest, fe, async () => {
      await receiver?.stop();
      webhooks?.closeAllConnections();
      webhooks?.close();
    });
  });

  /** The API and a worker exporting to the test's own receiver, in http/json, without batching delay. */
  async function startTracedService(): Promise<{ api: ApiClient; apiProcess: ServiceProcess; worker: ServiceProcess }> {
    receiver = await OtlpReceiver.start();
    fe = await isolatedServiceEnv({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    // `http`: the API logs each request (its access log line), with the request's trace id.
    const apiProcess = await startApi(fe, { LOG_LEVEL: 'http' });
    const worker = await startWorker(fe);
    return { api: new ApiClient(fe.baseUrl), apiProcess, worker };
  }

  it('when tracing is on and an organization is created, then the POST, its job, every provisioning step and their database calls (SQL without literals) share one trace id, from both services, and the logs carry it', async () => {
    const { api, apiProcess, worker } = await startTracedService();
    const created = await api.createOrganization(`Traced ${fe?.id}`);
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const orgId = created.body.id as string;
    await waitForStatuses(fe as ServiceEnv, [orgId], ['active', 'failed'], 30000);
    expect((await api.status(orgId)).status).to.equal('active');

    const isPost = (span: ReceivedSpan) => span.kind === SERVER && span.name === 'POST /organizations' && span.service === 'orgms-api';
    const post = await waitUntil(async () => receiver?.spans.find(isPost), 10000, 'the POST span');
    const stepSpans = PROVISIONING_STEPS.map((step) => `provisioning ${step}`);
    const isJob = (span: ReceivedSpan) => span.service === 'orgms-worker' && span.kind === CONSUMER && span.name === 'process provisioning';
    // The job's span ends after its last step, so it may come in a later export than the steps.
    const trace = await waitUntil(
      async () => {
        const spans = receiver?.trace(post.traceId) ?? [];
        return stepSpans.every((name) => spans.some((span) => span.name === name)) && spans.some(isJob) ? spans : undefined;
      },
      10000,
      'every provisioning step and the job in the trace',
    );

    expect(new Set(trace.map((span) => span.service))).to.deep.equal(new Set(['orgms-api', 'orgms-worker']));
    for (const name of stepSpans) {
      const step = trace.find((span) => span.name === name);
      expect(step?.service, name).to.equal('orgms-worker');
    }
    const pg = trace.filter((span) => span.scope === '@opentelemetry/instrumentation-pg');
    expect(new Set(pg.map((span) => span.service)), 'database calls of both processes').to.deep.equal(new Set(['orgms-api', 'orgms-worker']));
    // The database calls of a step are children of the step's span.
    const migrate = trace.find((span) => span.name === 'provisioning migrate') as ReceivedSpan;
    expect(pg.some((span) => span.parentSpanId === migrate.spanId)).to.equal(true);
    // SQL text is exported without its literals: the organization role's password verifier stays out.
    const statements = pg.map((span) => String(span.attributes['db.query.text'] ?? ''));
    expect(statements.some((text) => /^CREATE ROLE .* PASSWORD '\?'/.test(text))).to.equal(true);
    expect(statements.filter((text) => text.includes('SCRAM-SHA-256'))).to.deep.equal([]);

    // The log lines of the request and of the job name the same trace.
    const requestLine = apiProcess.lines.find((line) => line.message === 'request' && line.path === '/organizations' && line.method === 'POST');
    expect(requestLine?.traceId).to.equal(post.traceId);
    const stepLine = worker.lines.find((line) => line.message === 'provisioning step done' && line.step === 'migrate');
    expect(stepLine?.traceId).to.equal(post.traceId);
    expect(stepLine?.requestId).to.equal(requestLine?.requestId);
    expect(stepLine?.spanId).to.equal(migrate.spanId);
  });

  it('when tracing is on, then the webhook deliveries an organization creation causes are spans of its trace, and their POSTs carry it to the receiver', async () => {
    const { api } = await startTracedService();
    const hooks = await startWebhookReceiver();
    webhooks = hooks.server;
    const endpoint = await api.request('POST', '/webhooks', { body: { url: hooks.url, events: ['organization.created', 'organization.active'] } });
    expect(endpoint.status, JSON.stringify(endpoint.body)).to.equal(201);
    const created = await api.createOrganization(`Traced hooks ${fe?.id}`);
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    await waitUntil(() => hooks.received.length >= 2, 20000, 'both deliveries');

    const post = await waitUntil(
      async () => receiver?.spans.find((span) => span.kind === SERVER && span.name === 'POST /organizations'),
      10000,
      'the POST span',
    );
    const deliveries = await waitUntil(
      async () => {
        const found = receiver?.trace(post.traceId).filter((span) => span.name === 'webhook delivery') ?? [];
        return found.length === 2 ? found : undefined;
      },
      10000,
      'both delivery spans in the trace',
    );
    expect(deliveries.map((span) => span.attributes['orgms.webhook.event_type']).sort()).to.deep.equal(['organization.active', 'organization.created']);
    for (const delivery of deliveries) {
      expect(delivery.service).to.equal('orgms-worker');
      // The signed POST itself is the delivery's child (the http instrumentation's client span).
      const sent = await waitUntil(
        async () => receiver?.spans.find((span) => span.kind === CLIENT && span.parentSpanId === delivery.spanId),
        5000,
        'the POST of a delivery',
      );
      expect(sent.traceId).to.equal(post.traceId);
    }
    // The receiver can join the trace too: each delivery carries it in `traceparent`.
    for (const headers of hooks.received) expect(String(headers.traceparent).split('-')[1]).to.equal(post.traceId);
  });

  it('when OTEL_TRACES_EXPORTER is unset or none, then a process starts without loading any OpenTelemetry module (and with console, it does)', async () => {
    // What main.ts does (tracing, then the process), with what the process loads that tracing would
    // instrument; every module required (CommonJS) or imported (ESM) is looked at.
    const onImport = `export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      if (/opentelemetry|bullmq-otel/.test(resolved.url)) process.stderr.write('imported ' + resolved.url + '\\n');
      return resolved;
    }`;
    const probe = `
      const Module = require('node:module');
      Module.register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(onImport)}));
      const load = Module._load;
      const loaded = [];
      Module._load = function (request, ...rest) {
        if (/opentelemetry|bullmq-otel/.test(request)) loaded.push(request);
        return load.call(this, request, ...rest);
      };
      const root = ${JSON.stringify(builtService())};
      require(root + '/libs/common/dist/tracing/preload.js').startProcessWithTracing('probe', async () => {
        const requireOfApi = Module.createRequire(root + '/apps/api/package.json');
        for (const name of ['express', 'pg', 'ioredis', 'bullmq']) requireOfApi(name);
        require(root + '/libs/common/dist/logger.js').createLogger('probe', 'info').info('started');
      }).then(() => console.log(JSON.stringify({ loaded })));`;
    const run = async (exporter?: string) => {
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...(exporter ? { OTEL_TRACES_EXPORTER: exporter } : {}) };
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', probe], { env, cwd: join(builtService(), 'apps', 'api') });
      const { loaded } = JSON.parse(stdout.trim().split('\n').pop() as string) as { loaded: string[] };
      return { required: loaded.length, imported: stderr.split('\n').filter((line) => line.startsWith('imported ')).length };
    };
    expect(await run(), 'OTEL_TRACES_EXPORTER unset').to.deep.equal({ required: 0, imported: 0 });
    expect(await run('none'), 'OTEL_TRACES_EXPORTER=none').to.deep.equal({ required: 0, imported: 0 });
    const on = await run('console');
    expect(on.required + on.imported, 'OTEL_TRACES_EXPORTER=console').to.be.above(0);
  });
});

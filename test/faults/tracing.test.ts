import { PROVISIONING_STEPS } from '@orgms/common/organizations/organization-status';
import { expect } from 'chai';
import { startApi, startWorker } from '../../harness/built-service';
import { isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import type { ServiceProcess } from '../../harness/service-process';
import { waitUntil } from '../../harness/wait';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { ApiClient, endFaultTest, waitForStatuses } from '../support/service-processes';

/** OTLP's span kinds (the numbers of its JSON encoding). */
const SERVER = 2;
const CONSUMER = 5;

describe('Traces: one organization creation is one trace across the API and the worker', function () {
  this.timeout(60000);
  let fe: ServiceEnv | undefined;
  let receiver: OtlpReceiver | undefined;

  afterEach(async function () {
    await endFaultTest(this.currentTest, fe, async () => receiver?.stop());
  });

  /** The API and a worker exporting to the test's own receiver, in http/json, without batching delay. */
  async function startTracedService(): Promise<{ api: ApiClient; apiProcess: ServiceProcess; worker: ServiceProcess }> {
    receiver = await OtlpReceiver.start();
    fe = await isolatedServiceEnv({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    // `http`: the API logs each request (its access log line), with the request's trace id.
    const apiProcess = await startApi(fe, { LOG_LEVEL: 'http' });
    const worker = await startWorker(fe);
    return { api: new ApiClient(fe.baseUrl), apiProcess, worker };
  }

  it('when tracing is on and an organization is created, then the POST, its job, every provisioning step and their database calls share one trace id, from both services, and the logs carry it', async () => {
    const { api, apiProcess, worker } = await startTracedService();
    const created = await api.createOrganization(`Traced ${fe?.id}`);
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const orgId = created.body.id as string;
    await waitForStatuses(fe as ServiceEnv, [orgId], ['active', 'failed'], 30000);
    expect((await api.status(orgId)).status).to.equal('active');

    const isPost = (span: ReceivedSpan) => span.kind === SERVER && span.name === 'POST /organizations' && span.service === 'orgms-api';
    const post = await waitUntil(async () => receiver?.spans.find(isPost), 10000, 'the POST span');
    const stepSpans = PROVISIONING_STEPS.map((step) => `provisioning ${step}`);
    const trace = await waitUntil(
      async () => {
        const spans = receiver?.trace(post.traceId) ?? [];
        return stepSpans.every((name) => spans.some((span) => span.name === name)) ? spans : undefined;
      },
      10000,
      'every provisioning step in the trace',
    );

    expect(new Set(trace.map((span) => span.service))).to.deep.equal(new Set(['orgms-api', 'orgms-worker']));
    const job = trace.find((span) => span.service === 'orgms-worker' && span.kind === CONSUMER && span.name === 'process provisioning');
    expect(job, 'the provision job span').to.not.equal(undefined);
    for (const name of stepSpans) {
      const step = trace.find((span) => span.name === name);
      expect(step?.service, name).to.equal('orgms-worker');
    }
    const pg = trace.filter((span) => span.scope === '@opentelemetry/instrumentation-pg');
    expect(new Set(pg.map((span) => span.service)), 'database calls of both processes').to.deep.equal(new Set(['orgms-api', 'orgms-worker']));
    // The database calls of a step are children of the step's span.
    const migrate = trace.find((span) => span.name === 'provisioning migrate') as ReceivedSpan;
    expect(pg.some((span) => span.parentSpanId === migrate.spanId)).to.equal(true);

    // The log lines of the request and of the job name the same trace.
    const requestLine = apiProcess.lines.find((line) => line.message === 'request' && line.path === '/organizations' && line.method === 'POST');
    expect(requestLine?.traceId).to.equal(post.traceId);
    const stepLine = worker.lines.find((line) => line.message === 'provisioning step done' && line.step === 'migrate');
    expect(stepLine?.traceId).to.equal(post.traceId);
    expect(stepLine?.requestId).to.equal(requestLine?.requestId);
    expect(stepLine?.spanId).to.equal(migrate.spanId);
  });
});

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ROOT } from '../../harness/built-service';
import { dropServiceResources, freePort, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { ApiClient } from '../support/service-processes';

/**
 * The image the Dockerfile builds, run as operators run it: an API container and a worker
 * container on the host network against the machine's PostgreSQL and Redis, each with this
 * suite's own control database, org prefix, queue prefix and ports. `npm run test:image` builds
 * the image first (scripts/image/build-image.sh); IMAGE names another one.
 */

const IMAGE = process.env.IMAGE ?? 'localhost/orgms-image-test:latest';
const PODMAN = join(ROOT, 'scripts/image/podman.sh');
const run = promisify(execFile);

async function podman(...args: string[]): Promise<string> {
  return (await run(PODMAN, args, { maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
}

/** Exit code and output of a command that may fail on purpose. */
async function podmanStatus(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    return { code: 0, output: await podman(...args) };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('the container image (npm run test:image)', function () {
  this.timeout(120000);
  const id = randomBytes(4).toString('hex');
  const containers = { api: `orgms-image-test-${id}-api`, worker: `orgms-image-test-${id}-worker` };
  // Exports, backups and archives (/app/var): one volume for both containers, as in docker-compose.yml.
  const volume = `orgms-image-test-${id}-var`;
  let fe: ServiceEnv;
  let client: ApiClient;
  let orgId: string;
  let orgAdminToken: string;

  before(async () => {
    const exists = await podmanStatus('image', 'exists', IMAGE);
    if (exists.code !== 0) throw new Error(`${IMAGE} is missing: run scripts/image/build-image.sh (npm run test:image does)`);
    fe = await isolatedServiceEnv(
      { NODE_ENV: 'production', SECRETS_KEY: randomBytes(32).toString('hex'), WORKER_METRICS_PORT: String(await freePort()) },
      'image',
    );
    // Files go where the image puts them by default (/app/var), written by its unprivileged user.
    for (const key of ['ARCHIVE_DIR', 'EXPORT_DIR', 'BACKUP_DIR']) delete fe.env[key];
    const env = Object.entries(fe.env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
    const shared = ['--network', 'host', '--label', `orgms.image-test=${id}`, '--volume', `${volume}:/app/var`, ...env];
    await podman('run', '--detach', '--name', containers.api, ...shared, IMAGE);
    await podman('run', '--detach', '--name', containers.worker, ...shared, IMAGE, 'node', 'apps/worker/dist/main.js');
    client = new ApiClient(fe.baseUrl);
    await waitUntil(async () => (await fetch(`${fe.baseUrl}/ready`)).ok, 60000, 'the API container to be ready', 250);
  });

  // The containers' logs are printed when anything failed, the start-up included.
  let passed = 0;
  let failed = false;
  afterEach(function () {
    if (this.currentTest?.state === 'passed') passed += 1;
    else failed = true;
  });

  after(async () => {
    if (failed || passed === 0) {
      for (const name of Object.values(containers)) console.log(`--- ${name}\n${(await podmanStatus('logs', '--tail', '50', name)).output}`);
    }
    await podmanStatus('rm', '--force', '--time', '5', ...Object.values(containers));
    await podmanStatus('volume', 'rm', '--force', volume);
    if (fe) await dropServiceResources(fe);
  });

  it('when the API and worker containers run against the machine’s PostgreSQL and Redis, then an organization is provisioned and its admin signs in', async () => {
    const created = await client.createOrganization(`Image ${id}`, { email: 'owner@image.test' });
    expect(created.status).to.equal(202);
    orgId = created.body.id as string;
    await waitUntil(async () => (await client.status(orgId)).status === 'active', 60000, 'the organization to be active', 200);

    const login = await client.request('POST', '/admin/login', {
      auth: false,
      body: { organization_id: orgId, email: 'owner@image.test', password: 'correct horse battery' },
    });
    expect(login.status).to.equal(200);
    orgAdminToken = login.body.access_token as string;
    const users = await client.request('GET', `/organizations/${orgId}/users`, { headers: { authorization: `Bearer ${orgAdminToken}` } });
    expect(users.status).to.equal(200);
    expect(users.body.items.map((user: { email: string }) => user.email)).to.deep.equal(['owner@image.test']);
  });

  it('then the worker’s pg_dump writes an export under /app/var as the unprivileged user, and the API container downloads it', async () => {
    const headers = { authorization: `Bearer ${orgAdminToken}` };
    const asked = await client.request('POST', `/organizations/${orgId}/exports`, { headers });
    expect(asked.status).to.equal(202);
    const done = await waitUntil(
      async () => {
        const answer = await client.request('GET', `/organizations/${orgId}/exports/${asked.body.id}`, { headers });
        return ['ready', 'failed'].includes(answer.body.status) && answer.body;
      },
      60000,
      'the export to be ready',
      200,
    );
    expect(done).to.include({ status: 'ready' });
    const download = await fetch(`${fe.baseUrl}/organizations/${orgId}/exports/${asked.body.id}/download`, { headers });
    expect(download.status).to.equal(200);
    expect((await download.arrayBuffer()).byteLength).to.equal(done.size_bytes);
  });

  it('then both processes run as the unprivileged user node (uid 1000), not root', async () => {
    for (const name of Object.values(containers)) {
      expect(await podman('exec', name, 'id', '-u'), name).to.equal('1000');
      const status = await podman('exec', name, 'cat', '/proc/1/status');
      // Real, effective, saved and filesystem uid of the main process.
      expect(/^Uid:\s+(.*)$/m.exec(status)?.[1].split(/\s+/), name).to.deep.equal(['1000', '1000', '1000', '1000']);
    }
  });

  it('then the image’s HEALTHCHECK finds both containers healthy, and fails when what it checks does not answer', async () => {
    expect(await podman('image', 'inspect', '--format', '{{json .Config.Healthcheck.Test}}', IMAGE)).to.include('container-health.js');
    for (const name of Object.values(containers)) {
      expect(await podmanStatus('healthcheck', 'run', name), name).to.include({ code: 0 });
    }
    // The same check pointed at ports where nothing listens: the API's and the worker's probes each fail.
    const nowhere = String(await freePort());
    const api = await podmanStatus('exec', '--env', `PORT=${nowhere}`, containers.api, 'node', 'apps/cli/dist/container-health.js');
    const worker = await podmanStatus('exec', '--env', `WORKER_METRICS_PORT=${nowhere}`, containers.worker, 'node', 'apps/cli/dist/container-health.js');
    expect([api.code, worker.code]).to.deep.equal([1, 1]);
  });

  it('then the runtime has pg_dump and pg_restore 15 and no build tools: no npm, no compiler, no package caches', async () => {
    const script = [
      'pg_dump --version',
      'pg_restore --version',
      'for tool in npm npx yarn gcc cc make python3 apt-get; do command -v $tool || true; done',
      'find /var/lib/apt/lists /var/cache/apt -name "*.deb" -o -name "*.bin" -o -name "*_Packages*" | wc -l',
    ].join('; ');
    const [pgDump, pgRestore, ...rest] = (await podman('run', '--rm', '--network', 'host', IMAGE, 'sh', '-c', script)).split('\n');
    expect(pgDump).to.match(/^pg_dump \(PostgreSQL\) 15\.\d+/);
    expect(pgRestore).to.match(/^pg_restore \(PostgreSQL\) 15\.\d+/);
    // apt-get itself is Debian's base image's; its package lists and caches are gone.
    expect(rest).to.deep.equal(['/usr/bin/apt-get', '0']);
  });

  it('then the API serves its document and both documentation pages from the pruned dependencies', async () => {
    for (const path of ['/openapi.json', '/docs/', '/docs/swagger-ui-bundle.js', '/redoc', '/redoc/assets/redoc.standalone.js']) {
      const res = await fetch(`${fe.baseUrl}${path}`);
      expect(res.status, path).to.equal(200);
      await res.arrayBuffer();
    }
  });
});

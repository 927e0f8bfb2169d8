import { healthUrlOf, roleOfCommandLine } from '@orgms/cli/container-health-targets';
import { loadConfig } from '@orgms/common/config';
import { expect } from 'chai';

describe('Container health check targets (the image’s HEALTHCHECK)', () => {
  it('when a process runs the API or the worker script, then its role is recognised, also behind node options; anything else has none', () => {
    expect(roleOfCommandLine(['node', 'apps/api/dist/main.js'])).to.equal('api');
    expect(roleOfCommandLine(['/usr/local/bin/node', '--max-old-space-size=512', '/app/apps/worker/dist/main.js'])).to.equal('worker');
    expect(roleOfCommandLine(['node', 'apps/cli/dist/migrate-control.js'])).to.equal(undefined);
    expect(roleOfCommandLine(['node', 'apps/cli/dist/container-health.js'])).to.equal(undefined);
    expect(roleOfCommandLine(['sh', '-c', 'node apps/api/dist/main.js'])).to.equal(undefined);
    expect(roleOfCommandLine([])).to.equal(undefined);
  });

  it('when the API runs, then its /ready on PORT is checked', () => {
    expect(healthUrlOf('api', loadConfig({ PORT: '8080' }))).to.equal('http://127.0.0.1:8080/ready');
  });

  it('when the worker runs, then its /health on the metrics port is checked, on loopback for a wildcard address, and nothing when the port is off', () => {
    expect(healthUrlOf('worker', loadConfig({}))).to.equal('http://127.0.0.1:9464/health');
    expect(healthUrlOf('worker', loadConfig({ WORKER_METRICS_HOST: '0.0.0.0', WORKER_METRICS_PORT: '9100' }))).to.equal('http://127.0.0.1:9100/health');
    expect(healthUrlOf('worker', loadConfig({ WORKER_METRICS_PORT: '0' }))).to.equal(undefined);
  });
});

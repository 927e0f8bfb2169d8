import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../harness/built-service';
import { freePort } from '../../harness/service-env';
import { ServiceProcess } from '../../harness/service-process';
import { waitUntil } from '../../harness/wait';

/** The shipped rules, evaluated as they are: only the intervals of the test configuration differ. */
const RULE_FILES = join(ROOT, 'deploy', 'prometheus', 'rules', '*.rules.yml');

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}

/**
 * A real Prometheus (Debian's `prometheus` package) of the test's own: its own port and its own
 * storage in a temporary directory, scraping the given API and worker every second and evaluating
 * deploy/prometheus/rules every second. CI installs the package; without it this throws.
 */
export class PrometheusServer {
  private constructor(
    readonly url: string,
    private readonly process: ServiceProcess,
    private readonly dir: string,
  ) {}

  static async start(targets: { api: string; worker: string }): Promise<PrometheusServer> {
    if (spawnSync('prometheus', ['--version']).error) {
      throw new Error("prometheus is not installed: apt-get install prometheus (Debian's package; CI installs it)");
    }
    const dir = mkdtempSync(join(tmpdir(), 'orgms-prometheus-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      JSON.stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [RULE_FILES],
        scrape_configs: [
          { job_name: 'orgms-api', static_configs: [{ targets: [targets.api] }] },
          { job_name: 'orgms-worker', static_configs: [{ targets: [targets.worker] }] },
        ],
      }),
    );
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, new ServiceProcess('prometheus', child), dir);
    await waitUntil(async () => (await fetch(`${server.url}/-/ready`).catch(() => undefined))?.ok, 20000, 'prometheus to be ready', 200);
    return server;
  }

  /** The value of each series an instant query returns, by its labels' JSON. */
  async query(expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const body = await this.get(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (body.data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  }

  async alerts(): Promise<PrometheusAlert[]> {
    return (await this.get('/api/v1/alerts')).data.alerts;
  }

  async stop(): Promise<void> {
    await this.process.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // biome-ignore lint/suspicious/noExplicitAny: Prometheus's HTTP API answers, read field by field
  private async get(path: string): Promise<any> {
    const res = await fetch(`${this.url}${path}`);
    if (!res.ok) throw new Error(`prometheus ${path} answered ${res.status}: ${await res.text()}`);
    return res.json();
  }
}

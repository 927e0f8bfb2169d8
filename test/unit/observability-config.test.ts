import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const root = path.resolve(__dirname, '../..');
const read = (...parts: string[]) => readFileSync(path.join(root, ...parts), 'utf8');

/** Every `.ts` file under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => read(dir, file));
}

/** The metrics the API and the worker register (`name: 'orgms_…'`), with the series a histogram adds. */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  for (const text of [...sources('apps/api/src'), ...sources('apps/worker/src')]) {
    for (const [, kind, name] of text.matchAll(/new (Counter|Gauge|Histogram)\(\{\s*name: '(orgms_[a-z_]+)'/g)) {
      names.add(name);
      if (kind === 'Histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

const ruleFiles = readdirSync(path.join(root, 'deploy/prometheus/rules')).map((file) => read('deploy/prometheus/rules', file));
const recorded = new Set(ruleFiles.flatMap((text) => [...text.matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1])));

/** The metric and recording-rule names of one PromQL expression (ours all start with `orgms_` or `orgms:`), label values left out. */
function namesIn(expr: string): string[] {
  return [...expr.replace(/"[^"]*"/g, '""').matchAll(/\borgms[_:][A-Za-z0-9_:]*/g)].map((m) => m[0]);
}

/** The expressions of the rule files: each `expr:` on one line or as a `|` block. */
function ruleExpressions(text: string): string[] {
  return [...text.matchAll(/^(\s*)expr: (?:\|\n((?:\1 +.*\n)+)|(.*)$)/gm)].map((m) => m[2] ?? m[3]);
}

interface Panel {
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
}

describe('Observability configuration (deploy/prometheus, deploy/grafana)', () => {
  const metrics = exportedMetrics();
  const known = (name: string) => metrics.has(name) || recorded.has(name);

  it('when the code is read, then it registers the metrics the rules are written against', () => {
    for (const name of ['orgms_pipeline_failures_total', 'orgms_queue_oldest_waiting_seconds', 'orgms_tenant_connections', 'orgms_backups_total']) {
      expect(metrics, name).to.include(name);
    }
  });

  it('when a rule names a metric, then the API or the worker exports it (or another rule records it)', () => {
    const expressions = ruleFiles.flatMap(ruleExpressions);
    expect(expressions.length).to.be.greaterThan(20);
    const unknown = expressions.flatMap(namesIn).filter((name) => !known(name));
    expect(unknown).to.deep.equal([]);
  });

  describe('the Grafana dashboard', () => {
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/orgms.json')) as { uid: string; panels: Panel[] };
    const datasourceUids = [...read('deploy/grafana/provisioning/datasources/prometheus.yml').matchAll(/^\s+uid: (\S+)$/gm)].map((m) => m[1]);
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');

    it('when its panels are read, then it shows provisioning, queues, fleet, tenant pools, limits, webhooks and backups', () => {
      const rows = dashboard.panels.filter((panel) => panel.type === 'row').map((panel) => panel.title);
      expect(rows).to.include.members(['Provisioning', 'Queues', 'Fleet', 'Tenant pools', 'Limits', 'Webhooks', 'Backups']);
    });

    it('when a panel queries, then every expression names only metrics the service exports or the rules record', () => {
      for (const panel of panels) {
        expect(panel.targets, panel.title).to.not.be.empty;
        for (const { expr } of panel.targets ?? []) {
          const names = namesIn(expr);
          expect(names.length > 0 || /^ALERTS\{/.test(expr), `${panel.title}: ${expr}`).to.equal(true);
          expect(
            names.filter((name) => !known(name)),
            `${panel.title}: ${expr}`,
          ).to.deep.equal([]);
        }
      }
    });

    it('when a panel or a query names its datasource, then it is the provisioned Prometheus, by its uid', () => {
      expect(datasourceUids).to.deep.equal(['orgms-prometheus']);
      for (const panel of panels) {
        expect(panel.datasource, panel.title).to.deep.equal({ type: 'prometheus', uid: datasourceUids[0] });
        for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).to.equal(datasourceUids[0]);
      }
    });

    it('when panels are laid out, then their ids are unique and none overlaps another', () => {
      const ids = dashboard.panels.map((panel) => (panel as Panel & { id: number }).id);
      expect(new Set(ids).size).to.equal(ids.length);
      const cells = new Set<string>();
      for (const panel of dashboard.panels as Array<Panel & { gridPos: { x: number; y: number; w: number; h: number } }>) {
        const { x, y, w, h } = panel.gridPos;
        expect(x + w, panel.title).to.be.at.most(24);
        for (let row = y; row < y + h; row++) {
          for (let col = x; col < x + w; col++) {
            expect(cells.has(`${row}:${col}`), `${panel.title} overlaps at ${row}:${col}`).to.equal(false);
            cells.add(`${row}:${col}`);
          }
        }
      }
    });
  });
});

/** Percentile by nearest rank over a copy of `values` (ms). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const median = (values: number[]) => percentile(values, 50);

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** One line of the results table: the service's figure beside its floor, measured in the same run. */
export interface ResultRow {
  scenario: string;
  metric: string;
  unit: string;
  service: number;
  floor?: number;
  /** service / floor (or floor / service when higher is better), compared with `target`. */
  ratio?: number;
  target?: string;
  met?: boolean;
  note?: string;
  /** Peak tenant connections per database server name, sampled in the same run (many tenants). */
  perServerPeak?: Record<string, number>;
}

export function printTable(rows: ResultRow[]): void {
  const header = ['scenario', 'metric', 'service', 'floor', 'ratio', 'target', 'met'];
  const cells = rows.map((r) => [
    r.scenario,
    `${r.metric} (${r.unit})`,
    String(r.service),
    r.floor === undefined ? '-' : String(r.floor),
    r.ratio === undefined ? '-' : `${r.ratio}x`,
    r.target ?? '-',
    r.met === undefined ? '-' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

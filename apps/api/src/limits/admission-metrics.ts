import { Counter, Gauge, type Registry } from 'prom-client';
import type { FairAdmission } from './fair-admission';

/** This replica's fair admission, read at scrape time: refusals, waits, and what is served and waiting now. */
export function registerAdmissionMetrics(registry: Registry, admission: Pick<FairAdmission, 'refusals' | 'waits' | 'load'>): void {
  new Counter({
    name: 'orgms_admission_refused_total',
    help: "Requests refused while waiting for their turn: `lane` (429: their organization's own requests filled its share and queue), `replica` (503: the server stayed full)",
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of Object.entries(admission.refusals())) this.inc({ reason }, count);
    },
  });
  new Counter({
    name: 'orgms_admission_waited_total',
    help: 'Requests admitted after waiting for their turn',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(admission.waits().count);
    },
  });
  new Counter({
    name: 'orgms_admission_wait_seconds_total',
    help: 'Time requests admitted after waiting spent waiting, together (divide by orgms_admission_waited_total for the mean)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(admission.waits().totalMs / 1000);
    },
  });
  new Gauge({
    name: 'orgms_admission_requests',
    help: 'Requests of this replica being served (`serving`) and waiting for their turn (`waiting`)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      for (const [state, count] of Object.entries(admission.load())) this.set({ state }, count);
    },
  });
}

import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { WEBHOOK_EVENT_TYPES } from '@orgms/common/webhooks/webhook-events';
import { controlQuery } from '../../harness/service-env';
import { printLogs, processesStarted } from '../../harness/service-process';
import { DEFAULT_SERVER, query } from '../support/fleet-processes';
import { ChaosFleet, SECOND_SERVER } from './chaos-fleet';
import { ambiguous, checkInvariants, EXPORT_IN_PROGRESS, type FinalState, queuedWork, readFinalState, SETTLED, type Verdict } from './checker';
import { formatSchedule, Nemesis, planFaults } from './nemesis';
import { Random } from './random';
import { WebhookReceiver } from './webhook-receiver';
import { type Operation, Workload } from './workload';

/**
 * The chaos soak (README "Chaos soak"): seeded clients work through two APIs and two workers while
 * a seeded nemesis breaks Redis, PostgreSQL, PgBouncer, the network and the processes; then a
 * checker proves the invariants from the history and the real state.
 *
 *   npm run test:chaos -- --minutes 5            a fixed seed, then a random one, 2.5 min each in all
 *   npm run test:chaos -- --minutes 30 --seed 42 one run of that seed (replays its schedule)
 */

/** After a fault window ends, this long for everything to work again (answers and settling). */
const RECOVERY_BOUND_MS = 30000;
const FIXED_SEED = 20261205;
const CLIENTS = 4;
/** Starting the fleet, settling (usually within a second of the workload stopping) and checking: ≈ 20 s measured. */
const OVERHEAD_MS = 25000;
/** The share of webhook deliveries the receiver refuses on purpose (503), so that retries happen. */
const WEBHOOK_REFUSALS = 0.05;

interface RunResult {
  seed: number;
  failed: boolean;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '2' }, seed: { type: 'string' }, clients: { type: 'string' } } });
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
  const seeds = values.seed !== undefined ? [Number(values.seed)] : [FIXED_SEED, Math.floor(Math.random() * 0xffffffff)];
  // --minutes is the whole run: each seed's share, less what starting, settling and checking take.
  const durationMs = Math.max(60000, (minutes * 60000) / seeds.length - OVERHEAD_MS);
  console.log(`chaos soak: seeds ${seeds.join(', ')}, ${(durationMs / 60000).toFixed(2)} min each, ${values.clients ?? CLIENTS} clients`);
  const began = Date.now();
  const results: RunResult[] = [];
  for (const seed of seeds) results.push(await soak(seed, durationMs, Number(values.clients ?? CLIENTS)));
  const failed = results.filter((r) => r.failed);
  console.log(
    `\nchaos soak: ${results.length - failed.length}/${results.length} runs passed in ${((Date.now() - began) / 60000).toFixed(1)} min${failed.length ? `; replay with --seed ${failed.map((r) => r.seed).join(' / --seed ')}` : ''}`,
  );
  process.exit(failed.length > 0 ? 1 : 0);
}

async function soak(seed: number, durationMs: number, clients: number): Promise<RunResult> {
  console.log(`\n=== seed ${seed}: ${(durationMs / 1000).toFixed(0)} s ===`);
  const random = new Random(seed);
  const warmupMs = Math.min(15000, durationMs / 10);
  // The workload goes on after the last fault long enough to show answers are back to normal.
  const plan = planFaults(random.fork(), warmupMs, durationMs - RECOVERY_BOUND_MS - 10000);
  console.log(`nemesis schedule (seed ${seed}):\n${formatSchedule(plan)}`);
  const fleet = await ChaosFleet.start();
  const workload = new Workload(fleet.apiUrls, `chaos ${seed}`);
  const receiver = new WebhookReceiver(random.fork(), WEBHOOK_REFUSALS);
  const connections = sampleConnections(fleet.pgbouncer.adminUrl);
  try {
    const endpointId = await registerWebhook(fleet, receiver);
    const nemesis = new Nemesis(fleet, plan);
    const startedAt = Date.now();
    const working = workload.run(clients, random.fork());
    await nemesis.run(startedAt);
    await sleep(Math.max(0, startedAt + durationMs - Date.now()));
    workload.stop();
    await working;
    const lastFaultEnd = Math.max(startedAt, ...nemesis.windows.map((w) => w.end));
    const settled = await waitToSettle(fleet, Date.now() + RECOVERY_BOUND_MS);
    const state = await readFinalState(fleet, endpointId);
    const verdicts = await checkInvariants(workload.history, nemesis.windows, state, fleet, RECOVERY_BOUND_MS, { endpointId, receiver });
    verdicts.push({
      invariant: `every organization settles (${SETTLED.join('/')}) within ${RECOVERY_BOUND_MS / 1000} s after the workload stopped`,
      violations: settled.unsettled.map((o) => ({ message: `org ${o.id} is still ${o.status} (step ${o.step})`, orgId: o.id })),
      checked: `${state.orgs.length} organizations`,
    });
    const settleMs = settled.at - lastFaultEnd;
    printSummary(seed, workload.history, nemesis, settleMs, settled.at - (startedAt + durationMs), verdicts);
    console.log(`peak backends (all clients, sampled every 2 s): ${connections.stop()}`);
    const failed = verdicts.some((v) => v.violations.length > 0);
    if (failed) printViolations(seed, verdicts, workload.history, state);
    return { seed, failed };
  } catch (error) {
    console.error(`seed ${seed}: the run itself failed: ${(error as Error).stack}`);
    printLogs();
    return { seed, failed: true };
  } finally {
    connections.stop();
    keepLogs(seed, workload.history, receiver, fleet.pgbouncer.logFile);
    await receiver.stop();
    await fleet.stop();
  }
}

/**
 * The soak's webhook endpoint, for every organization event, pointing at its receiver (registered
 * before the workload starts, so every organization's events are delivered to it).
 */
async function registerWebhook(fleet: ChaosFleet, receiver: WebhookReceiver): Promise<string> {
  const url = await receiver.start();
  const res = await fetch(`${fleet.apiUrls[0]}/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await fleet.adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, events: WEBHOOK_EVENT_TYPES, description: 'chaos soak receiver' }),
  });
  const body = (await res.json()) as { id: string; secret: string };
  if (res.status !== 201) throw new Error(`POST /webhooks answered ${res.status}: ${JSON.stringify(body)}`);
  receiver.secret = body.secret;
  return body.id;
}

/** Every process's log (restarted ones too) in a directory of the run, for what the summary cannot show. */
function keepLogs(seed: number, history: Operation[], receiver: WebhookReceiver, pgbouncerLog: string): void {
  const dir = join('/tmp', `orgms-chaos-${seed}`);
  mkdirSync(dir, { recursive: true });
  for (const [index, service] of processesStarted().entries()) writeFileSync(join(dir, `${index}-${service.name}.log`), `${service.logs.join('\n')}\n`);
  writeFileSync(join(dir, 'history.jsonl'), history.map((op) => JSON.stringify(op)).join('\n'));
  writeFileSync(join(dir, 'webhooks.jsonl'), receiver.acknowledged.map((d) => JSON.stringify(d)).join('\n'));
  if (existsSync(pgbouncerLog)) copyFileSync(pgbouncerLog, join(dir, 'pgbouncer.log'));
  console.log(`process logs and the history: ${dir}`);
}

/** The most backends each server had at once (everyone's: the servers are shared) and PgBouncer's server connections. */
function sampleConnections(pgbouncerAdmin: string): { stop: () => string } {
  const peaks = { default: 0, 'pg-b': 0, pgbouncer: 0 };
  const sample = async () => {
    const count = async (url: string) => Number((await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM pg_stat_activity'))[0].n);
    peaks.default = Math.max(peaks.default, await count(DEFAULT_SERVER).catch(() => 0));
    peaks['pg-b'] = Math.max(peaks['pg-b'], await count(SECOND_SERVER).catch(() => 0));
    peaks.pgbouncer = Math.max(peaks.pgbouncer, (await query(pgbouncerAdmin, 'SHOW SERVERS').catch(() => [])).length);
  };
  const timer = setInterval(() => void sample(), 2000);
  return {
    stop: () => {
      clearInterval(timer);
      return `default ${peaks.default}, pg-b ${peaks['pg-b']}, PgBouncer server connections ${peaks.pgbouncer}`;
    },
  };
}

/**
 * Polls the control database and Redis until every organization is settled, no webhook delivery is
 * pending, no export queued or running, no organization's job left on the work queues and the spares
 * refilled, or the deadline passes (what is left over is its invariant's violations).
 */
async function waitToSettle(fleet: ChaosFleet, deadline: number): Promise<{ at: number; unsettled: { id: string; status: string; step: string | null }[] }> {
  while (true) {
    const unsettled = await controlQuery<{ id: string; status: string; step: string | null }>(
      fleet.fe,
      'SELECT id, status, step FROM organizations WHERE NOT (status = ANY($1::text[]))',
      [SETTLED],
    ).catch(() => [{ id: '?', status: 'control database unreachable', step: null }]);
    // Spares too: none being made or claimed (but by a failed organization, whose retry takes its claim up), each active server refilled.
    const [{ busy }] = await controlQuery<{ busy: number }>(
      fleet.fe,
      `SELECT ((SELECT count(*) FROM webhook_deliveries WHERE status = 'pending')
             + (SELECT count(*) FROM organization_dumps WHERE kind = 'export' AND status = ANY($1::text[]))
             + (SELECT count(*) FROM spare_databases s LEFT JOIN organizations o ON o.id = s.claimed_by
                 WHERE s.status = 'preparing' OR (s.status = 'claimed' AND o.status IS DISTINCT FROM 'failed'))
             + (SELECT count(*) FROM database_servers d WHERE d.status = 'active'
                 AND (SELECT count(*) FROM spare_databases s WHERE s.server_id = d.id AND s.status = 'ready') < $2))::int AS busy`,
      [EXPORT_IN_PROGRESS, Number(fleet.fe.env.SPARE_DATABASES)],
    ).catch(() => [{ busy: 1 }]);
    // A move's job goes on after its organization is active again (it drops the source once its sessions ended).
    const queued = Object.values(await queuedWork(fleet).catch(() => ({ unreachable: 1 }))).reduce((sum, n) => sum + n, 0);
    if ((unsettled.length === 0 && Number(busy) === 0 && queued === 0) || Date.now() > deadline) return { at: Date.now(), unsettled };
    await sleep(500);
  }
}

function countBy<T>(items: T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

function printSummary(seed: number, history: Operation[], nemesis: Nemesis, settleMs: number, afterStopMs: number, verdicts: Verdict[]): void {
  console.log(`\n--- summary, seed ${seed} ---`);
  console.log(`operations: ${history.length}`);
  const kinds = [...new Set(history.map((op) => op.op))];
  for (const kind of kinds) {
    const ops = history.filter((op) => op.op === kind);
    console.log(`  ${kind.padEnd(18)} ${String(ops.length).padStart(5)}  (${countBy(ops, (op) => String(op.status || 'no answer'))})`);
  }
  console.log(
    `faults: ${nemesis.windows.length} (${countBy(nemesis.windows, (w) => w.kind)})${
      nemesis.windows.some((w) => w.error)
        ? `; failed to inject: ${nemesis.windows
            .filter((w) => w.error)
            .map((w) => `${w.kind}: ${w.error}`)
            .join('; ')}`
        : ''
    }`,
  );
  console.log(`answers 5xx or none: ${history.filter(ambiguous).length}`);
  console.log(
    `time to settle after the last fault: ${(settleMs / 1000).toFixed(1)} s (${(Math.max(0, afterStopMs) / 1000).toFixed(1)} s after the workload stopped)`,
  );
  for (const verdict of verdicts) {
    console.log(
      `  ${verdict.violations.length === 0 ? 'PASS' : 'FAIL'}  ${verdict.invariant}  [${verdict.checked}]${verdict.violations.length ? ` ${verdict.violations.length} violations` : ''}`,
    );
  }
}

/** Each violation with the history around it (the requests about its organization, or those near its request) and the state that broke it. */
function printViolations(seed: number, verdicts: Verdict[], history: Operation[], state: FinalState): void {
  console.log(`\n!!! violations (seed ${seed}; replay with --seed ${seed})`);
  const format = (op: Operation) =>
    `    #${op.seq} c${op.client} ${new Date(op.start).toISOString().slice(11, 23)}+${op.end - op.start}ms api-${op.api + 1} ${op.op} ${op.method} ${op.path} → ${op.status || 'no answer'} ${JSON.stringify({ ...op.args, ...op.result })}`;
  for (const verdict of verdicts) {
    for (const violation of verdict.violations.slice(0, 20)) {
      console.log(`\n  [${verdict.invariant}]\n  ${violation.message}`);
      const around = violation.orgId
        ? history.filter((op) => op.args.org === violation.orgId || op.result.id === violation.orgId)
        : violation.seq
          ? history.filter((op) => Math.abs(op.seq - (violation.seq as number)) <= 8)
          : [];
      for (const op of around.slice(-40)) console.log(format(op));
      const org = state.orgs.find((o) => o.id === violation.orgId);
      if (org) {
        console.log(`    state: ${JSON.stringify(org)}`);
        console.log(`    databases: ${JSON.stringify(state.databases.filter((d) => d.datname === org.database_name))}`);
        console.log(`    archives: ${JSON.stringify(state.archives.filter((a) => a.org_id === org.id))}`);
      }
    }
    if (verdict.violations.length > 20) console.log(`  … and ${verdict.violations.length - 20} more`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

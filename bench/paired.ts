/**
 * `npm run bench:paired -- --base=<git ref> [--row=facility|tree|pass-through] [--windows=12]
 * [--seconds=5] [--pin] [--large]`: CPU per request of one bench row, this checkout against
 * another commit, measured side by side. `--row=audit` (no base) compares this checkout with
 * itself, audit off against every interaction audited to a stand-in FHIR sink (issue 12).
 * Separate `npm run bench` runs on a small VM differ by ±10%; here both gateways serve the same
 * upstream at the same time, warmed alike, and are measured in alternating windows at 1,000
 * requests/s of 20-entry pages (`--large`: 200 requests/s of 200-entry pages), so what the machine
 * does to one it does to the other. Prints each window and the mean of the paired differences with
 * its standard error (docs/performance.md, issue 8).
 *
 * The base is checked out in a temporary git worktree and installed with `npm ci` (a minute or
 * two); both gateways run with this checkout's image memory settings (bench/runtime-tuning.ts).
 *
 * Both gateways are warmed in alternating windows, as they are then measured, so that neither has
 * a history of its own. Even so, two identical gateways can differ by 10-15% at this light load:
 * V8 may settle, per process, into a full collection every second or so (an old generation sized
 * tight), and stay there. `--same` shows what the method reads with no difference (this checkout
 * against itself, audit off): run it before trusting a difference of that size.
 * `BENCH_GATEWAY_NODE_FLAGS=--heap-growing-percent=100` takes that state away from both
 * (docs/performance.md, "Full collections at light load"). The median of the paired differences
 * is printed too: one window disturbed by the machine moves the mean, not the median. Each window
 * shows how many full collections its gateway ran (from the gateway's own metrics).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../test/support/free-port.js';
import { startIssuer } from '../test/support/issuer.js';
import { builtEntry } from './build.js';
import { type GatewayChild, startGateway, startUpstream } from './gateways.js';
import { runLoad } from './load.js';
import { OPENSRP_CHECKER, openSrpTokens, startOpenSrpWorld } from './opensrp-setup.js';
import { planFrom } from './plan.js';
import { cpuSecondsOf } from './proc-stats.js';
import { REPO_ROOT, startNodeChild } from './processes.js';
import { imageRuntimeTuning } from './runtime-tuning.js';
import { LARGE_COUNT, SMALL_COUNT } from './searchset.js';

type Row = 'facility' | 'tree' | 'pass-through' | 'audit';
const ROWS: readonly Row[] = ['facility', 'tree', 'pass-through', 'audit'];

interface Options {
  /** Undefined for the audit row: both sides are this checkout. */
  readonly base: string | undefined;
  readonly row: Row;
  readonly windows: number;
  readonly seconds: number;
  /** Gateways on the last CPU, everything else on the others (taskset): less scheduling noise. */
  readonly pin: boolean;
  /** Both sides this checkout with the same settings: what the method reads with no difference. */
  readonly same: boolean;
  /** 200-entry (~50 KB) pages at 200 requests/s instead of 20-entry (~5 KB) ones at 1,000/s. */
  readonly large: boolean;
}

function optionsFrom(args: readonly string[]): Options {
  const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const base = value('base');
  const row = (value('row') ?? 'facility') as Row;
  const windows = Number(value('windows') ?? 12);
  const seconds = Number(value('seconds') ?? 5);
  const pin = args.includes('--pin');
  const same = args.includes('--same');
  const large = args.includes('--large');
  if (
    !ROWS.includes(row) ||
    (row === 'audit' || same) !== (base === undefined) ||
    !(windows >= 2) ||
    !(seconds >= 1)
  ) {
    console.error(
      'usage: npm run bench:paired -- --base=<git ref> [--row=facility|tree|pass-through] [--windows=N>=2] [--seconds=N>=1] [--pin] [--large]\n' +
        '       npm run bench:paired -- --row=audit [--windows=N>=2] [--seconds=N>=1] [--pin] [--large]\n' +
        '       npm run bench:paired -- --same [--row=...] [--windows=N>=2] [--seconds=N>=1] [--pin] [--large]',
    );
    process.exit(2);
  }
  return { base, row, windows, seconds, pin, same, large };
}

/** Each process's threads on these CPUs. */
function pin(cpus: string, pids: readonly number[]): void {
  for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

type StartGateway = typeof startGateway;

/** The base commit in a worktree of its own, installed; removed by `remove`. */
function checkOutBase(ref: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-gateway-base-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, stdio: 'inherit' });
  git('worktree', 'add', '--detach', '--force', dir, ref);
  const remove = () => {
    git('worktree', 'remove', '--force', dir);
  };
  try {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      stdio: 'inherit',
    });
  } catch (error) {
    remove();
    throw error;
  }
  return { dir, remove };
}

/**
 * Full (mark-compact) collections the gateway has run, from its own metrics; NaN when they cannot be
 * read. A window with several is one in V8's full-collection state (docs/performance.md).
 */
async function fullCollections(metricsPort: number): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const count = /^fhir_gateway_nodejs_gc_duration_seconds_count\{kind="major"\} (\d+)/m.exec(text)?.[1];
    if (count !== undefined) return Number(count);
    // None yet, or no such metric (a base from before it).
    return text.includes('fhir_gateway_nodejs_gc_duration_seconds_count') ? 0 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Unmeasured load per gateway before the measured windows: the JIT needs about 20 s of it. */
const WARM_SECONDS = 20;

const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const options = optionsFrom(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let base: ReturnType<typeof checkOutBase> | undefined;
  if (options.base !== undefined) {
    log(`checking out and installing ${options.base}`);
    base = checkOutBase(options.base);
  }
  const stops: (() => Promise<void>)[] = [];
  try {
    const baseStart = base
      ? ((await import(join(base.dir, 'bench', 'gateways.ts'))) as { startGateway: StartGateway })
          .startGateway
      : startGateway;
    const audit = options.row === 'audit' && !options.same;
    const sink = audit ? await startNodeChild(builtEntry('audit-sink-process.ts'), {}) : undefined;
    if (sink) stops.push(() => sink.stop());
    const issuer = await startIssuer();
    stops.push(() => issuer.close());
    const opensrp = options.row !== 'pass-through' && options.row !== 'audit';
    const world = opensrp ? await startOpenSrpWorld('1k') : undefined;
    if (world) stops.push(() => world.close());
    const upstream = await startUpstream(world ? { fhirBase: world.baseUrl, tree: '1k' } : undefined);
    stops.push(() => upstream.stop());
    const tokens = opensrp ? await openSrpTokens(issuer) : undefined;
    const token =
      options.row === 'tree'
        ? tokens!.worker
        : options.row === 'facility'
          ? tokens!.other
          : await issuer.mint({ sub: 'bench-user' }, { expiresInSeconds: 3600 });
    const env = {
      ...imageRuntimeTuning(),
      PROXY_TO: upstream.url,
      TOKEN_ISSUER: issuer.issuerUrl,
      ACCESS_CHECKER: opensrp ? OPENSRP_CHECKER : 'permissive',
      ...(opensrp ? {} : { RUN_MODE: 'DEV' }),
    };
    const plan = planFrom([]);
    const headEnv = sink ? { ...env, AUDIT_EVENT_ACTIONS_CONFIG: 'CRUDE', AUDIT_SINK_URL: sink.url } : env;
    const metricsPorts = { base: await freePort(), head: await freePort() };
    const gateways: Record<'base' | 'head', GatewayChild> = {
      base: await baseStart('paired-base', { ...env, METRICS_PORT: String(metricsPorts.base) }, plan),
      head: await startGateway('paired-head', { ...headEnv, METRICS_PORT: String(metricsPorts.head) }, plan),
    };
    stops.push(
      () => gateways.base.stop(),
      () => gateways.head.stop(),
    );
    if (options.pin) {
      const last = availableParallelism() - 1;
      pin(String(last), [gateways.base.pid, gateways.head.pid]);
      pin(last > 0 ? `0-${last - 1}` : '0', [process.pid, upstream.pid, ...(sink ? [sink.pid] : [])]);
    }
    // Audited events are built and written after the answers (up to AUDIT_FLUSH_INTERVAL_MS): a
    // window's CPU is read once that is done, so none of it falls between two windows.
    const settleMs = options.row === 'audit' ? 1500 : 0;
    const names = options.same
      ? { base: 'gateway A', head: 'gateway B' }
      : audit
        ? { base: 'audit off', head: 'audit on' }
        : { base: options.base!, head: 'this checkout' };

    const headers = { authorization: `Bearer ${token}` };
    const path = `/Patient?_count=${options.large ? LARGE_COUNT : SMALL_COUNT}`;
    const overallRate = options.large ? 200 : 1000;
    const load = (gateway: GatewayChild, durationS: number) =>
      runLoad({ url: `${gateway.fhirBase}${path}`, headers, connections: 10, durationS, overallRate });
    const orderOf = (window: number) =>
      window % 2 === 0 ? (['base', 'head'] as const) : (['head', 'base'] as const);
    const warmWindows = Math.ceil(WARM_SECONDS / options.seconds);
    log(`warming both, ${warmWindows} alternating windows each`);
    for (let window = 0; window < warmWindows; window++) {
      for (const name of orderOf(window)) {
        await load(gateways[name], options.seconds);
        await sleep(settleMs);
      }
    }
    const cpu: Record<'base' | 'head', number[]> = { base: [], head: [] };
    for (let window = 0; window < options.windows; window++) {
      for (const name of orderOf(window)) {
        const gateway = gateways[name];
        const collectionsBefore = await fullCollections(metricsPorts[name]);
        const before = cpuSecondsOf([gateway.pid]);
        const result = await load(gateway, options.seconds);
        await sleep(settleMs);
        const us = ((cpuSecondsOf([gateway.pid]) - before) / result.requests) * 1e6;
        const collections = (await fullCollections(metricsPorts[name])) - collectionsBefore;
        cpu[name].push(us);
        log(
          `window ${window} ${names[name]}: ${us.toFixed(0)} µs/request (${result.requests} requests, ` +
            `${result.non2xx} not 2xx, ${Number.isNaN(collections) ? '?' : collections} full collections)`,
        );
      }
    }
    const differences = cpu.head.map((us, i) => us - cpu.base[i]!);
    const meanDifference = mean(differences);
    const spread = Math.sqrt(
      mean(differences.map((d) => (d - meanDifference) ** 2)) / (differences.length - 1),
    );
    const baseMean = mean(cpu.base);
    const percent = (v: number) => `${v >= 0 ? '+' : ''}${((v / baseMean) * 100).toFixed(1)}%`;
    console.log(
      `${options.row}${options.large ? ' (200-entry pages)' : ''}, ${options.windows} windows: ` +
        `${names.base} ${baseMean.toFixed(0)} µs/request, ${names.head} ${mean(cpu.head).toFixed(0)} µs/request; ` +
        `paired difference ${percent(meanDifference)} ± ${((spread / baseMean) * 100).toFixed(1)}% ` +
        `(standard error), median ${percent(median(differences))}`,
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    base?.remove();
  }
}

await main();
process.exit(0);

/**
 * `npm run bench [-- --quick] [-- --profile] [-- --only=proxy|opensrp]`: the gateway's cost per
 * request against nginx and a direct connection, in one bounded run on loopback. Prints Markdown
 * tables to stdout (progress to stderr) and writes the raw figures to bench/results/. Every process
 * it starts is stopped at the end, on error, on SIGINT/SIGTERM, and when the deadline passes (the
 * tables are printed with what was measured so far).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { join } from 'node:path';
import { startIssuer } from '../test/support/issuer.js';
import { RESULTS_DIR, startUpstream } from './gateways.js';
import { measureOpenSrp, type OpenSrpMeasurement } from './opensrp-rows.js';
import { openSrpAvailable, startOpenSrpWorld } from './opensrp-setup.js';
import { type Plan, planFrom } from './plan.js';
import { killAllNow } from './processes.js';
import { summarizeProfiles } from './profile-summary.js';
import { renderMarkdown } from './report.js';
import type { BenchResults } from './results.js';
import {
  auditedRow,
  bareNodeRow,
  directRow,
  nginxRow,
  openSrpSyncRows,
  permissiveRow,
  postProcessedRow,
  type RowContext,
} from './rows.js';

const started = performance.now();
const log = (line: string) =>
  process.stderr.write(
    `[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`,
  );

const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

function cpuModel(): string {
  const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return match?.[1]?.trim() ?? 'unknown CPU';
}

/** Prints the tables and writes the JSON; called once, at the end or when the run is cut short. */
function finish(results: BenchResults, exitCode: number): never {
  killAllNow();
  results.seconds = (performance.now() - started) / 1000;
  results.machine.loadEnd = loadAverage();
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(join(RESULTS_DIR, `bench-${stamp}.json`), json);
  writeFileSync(join(RESULTS_DIR, 'latest.json'), json);
  process.stdout.write(renderMarkdown(results));
  log(`raw figures: bench/results/bench-${stamp}.json (and latest.json)`);
  if (results.plan.profile) {
    for (const summary of summarizeProfiles(join(RESULTS_DIR, 'profiles'))) log(`profile: ${summary}`);
  }
  process.exit(exitCode);
}

async function proxyRows(results: BenchResults, plan: Plan, issuer: Awaited<ReturnType<typeof startIssuer>>) {
  const token = await issuer.mint({ sub: 'bench-user' }, { expiresInSeconds: 3600 });
  // The sync rows' gateway resolves its (cold) lookups against this FHIR server before the load.
  const world = openSrpAvailable() ? await startOpenSrpWorld('1k') : undefined;
  const upstream = await startUpstream(world ? { fhirBase: world.baseUrl, tree: '1k' } : undefined);
  const ctx: RowContext = { plan, issuer, upstream, results, log };
  try {
    await directRow(ctx, token);
    await nginxRow(ctx, token);
    await bareNodeRow(ctx, token);
    await permissiveRow(ctx, token);
    await auditedRow(ctx, token);
    await openSrpSyncRows(ctx);
    await postProcessedRow(ctx, token);
  } finally {
    await upstream.stop();
    await world?.close();
  }
}

async function openSrpRows(
  results: BenchResults,
  plan: Plan,
  issuer: Awaited<ReturnType<typeof startIssuer>>,
) {
  if (!openSrpAvailable()) return;
  const measurements: OpenSrpMeasurement[] = [];
  results.opensrp = measurements;
  for (const tree of ['1k', '10k'] as const) {
    log(
      `OpenSRP: assignment and /LocationHierarchy over a ${tree === '1k' ? '1,000' : '10,000'}-Location tree, cold and warm`,
    );
    measurements.push(...(await measureOpenSrp(tree, issuer, plan)));
  }
}

async function main(): Promise<never> {
  const plan = planFrom(process.argv.slice(2));
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    seconds: 0,
    machine: {
      nproc: availableParallelism(),
      cpuModel: cpuModel(),
      node: process.version,
      kernel: release(),
      loadStart: loadAverage(),
    },
    plan,
    rows: [],
    syncTraffic: {},
    memory: {},
    opensrp: { missing: 'pending: permission checker not available' },
    problems: [],
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping every process started`);
      results.problems.push(`interrupted by ${signal}`);
      finish(results, 130);
    });
  }
  setTimeout(() => {
    log(`deadline of ${plan.deadlineMs / 1000} s passed: stopping`);
    results.problems.push(
      `cut short: the deadline of ${plan.deadlineMs / 1000} s passed; later rows are missing`,
    );
    finish(results, 1);
  }, plan.deadlineMs).unref();

  if (plan.profile) rmSync(join(RESULTS_DIR, 'profiles'), { recursive: true, force: true });
  const issuer = await startIssuer();
  try {
    if (plan.only !== 'opensrp') await proxyRows(results, plan, issuer);
    if (plan.only !== 'proxy') await openSrpRows(results, plan, issuer);
  } catch (error) {
    results.problems.push(`aborted: ${(error as Error).stack ?? String(error)}`);
    finish(results, 1);
  } finally {
    await issuer.close();
  }
  return finish(results, 0);
}

process.on('exit', killAllNow);
await main();

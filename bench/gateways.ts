import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { builtEntry } from './build.js';
import type { Plan } from './plan.js';
import { REPO_ROOT, type Started, startNodeChild } from './processes.js';
import { imageRuntimeTuning } from './runtime-tuning.js';

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

export interface GatewayChild extends Started {
  /** e.g. `http://127.0.0.1:P/fhir`. */
  readonly fhirBase: string;
}

async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/readyz`);
      last = await response.text();
      if (response.status === 200) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the gateway at ${url} did not become ready: ${last}`);
}

/** A gateway in its own process (bench/gateway-process.ts), ready to serve. */
export async function startGateway(
  label: string,
  env: { PROXY_TO: string; TOKEN_ISSUER: string; ACCESS_CHECKER: string } & Record<string, string>,
  plan: Plan,
): Promise<GatewayChild> {
  // Extra node flags for the gateway processes, e.g. BENCH_GATEWAY_NODE_FLAGS=--max-semi-space-size=4.
  const execArgv: string[] = (process.env.BENCH_GATEWAY_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
  if (plan.profile) {
    // One folder per gateway: every thread (main, ESM loader) writes its own profile there.
    const dir = join(RESULTS_DIR, 'profiles', label);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const child = await startNodeChild(
    builtEntry('gateway-process.ts'),
    { ...imageRuntimeTuning(), PROXY_PORT: '0', PROXY_HOST: '127.0.0.1', LOG_LEVEL: 'error', ...env },
    { execArgv },
  );
  try {
    await waitUntilReady(child.url, 20_000);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { ...child, fhirBase: `${child.url}/fhir` };
}

export interface UpstreamStats {
  patientSearches: number;
  withTag: number;
  lastTagValues: number;
  lastMethod: string;
  /** Backend calls the gateway made besides the Patient searches (OpenSRP lookups). */
  lookups: number;
  /** Wall time during which at least one lookup was being answered. */
  lookupMs: number;
  lookupsByType: Record<string, number>;
}

/**
 * The canned upstream (bench/upstream-process.ts). With `lookups`, the OpenSRP lookups are answered
 * too: Location searches from an index of that world, everything else by that FHIR server.
 */
export async function startUpstream(lookups?: {
  fhirBase: string;
  tree: '1k' | '10k';
}): Promise<Started & { stats(): Promise<UpstreamStats>; reset(): Promise<void> }> {
  const env: Record<string, string> = lookups ? { LOOKUP_TO: lookups.fhirBase, TREE: lookups.tree } : {};
  const child = await startNodeChild(builtEntry('upstream-process.ts'), env);
  const origin = new URL(child.url).origin;
  return {
    ...child,
    async stats() {
      return (await (await fetch(`${origin}/__bench/stats`)).json()) as UpstreamStats;
    },
    async reset() {
      await (await fetch(`${origin}/__bench/reset`, { method: 'POST' })).text();
    },
  };
}

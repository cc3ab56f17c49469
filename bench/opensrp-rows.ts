import type { LocalIssuer } from '../test/support/issuer.js';
import { type GatewayChild, startGateway, startUpstream } from './gateways.js';
import {
  type BackendCalls,
  OPENSRP_CHECKER,
  type OpenSrpWorld,
  openSrpTokens,
  startOpenSrpWorld,
} from './opensrp-setup.js';
import type { Plan } from './plan.js';

/** One timed request against a fresh or warmed gateway. */
export interface TimedCall {
  status: number;
  ms: number;
  backend: BackendCalls;
  /** Wall time during which the backend (FHIR server and Location index) was answering those calls. */
  backendMs: number;
  note?: string;
}

export interface OpenSrpMeasurement {
  what: 'assignment' | 'hierarchy';
  locations: number;
  cold: TimedCall;
  warm: TimedCall;
}

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

/** A fresh gateway with its own FHIR server (lookups) behind the canned upstream: nothing is cached yet. */
interface Lane {
  world: OpenSrpWorld;
  upstream: Upstream;
  gateway: GatewayChild;
  url: string;
  inspect: (status: number, body: string) => Promise<string>;
}

const WARM_CALLS = 5;

async function timed(lane: Lane, token: string): Promise<TimedCall> {
  await lane.upstream.reset();
  const started = performance.now();
  const response = await fetch(lane.url, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.text();
  const ms = performance.now() - started;
  const stats = await lane.upstream.stats();
  return {
    status: response.status,
    ms,
    backend: { total: stats.lookups, byType: stats.lookupsByType },
    backendMs: stats.lookupMs,
    note: await lane.inspect(response.status, body),
  };
}

/** The median of several warm calls (the first ones after a start run unoptimized code); backend calls are summed. */
async function timedWarm(lane: Lane, token: string): Promise<TimedCall> {
  const calls: TimedCall[] = [];
  for (let i = 0; i < WARM_CALLS; i++) calls.push(await timed(lane, token));
  const median = [...calls].sort((a, b) => a.ms - b.ms)[Math.floor(WARM_CALLS / 2)]!;
  const byType: Record<string, number> = {};
  for (const c of calls) {
    for (const [type, n] of Object.entries(c.backend.byType)) byType[type] = (byType[type] ?? 0) + n;
  }
  return {
    ...median,
    backend: { total: calls.reduce((sum, c) => sum + c.backend.total, 0), byType },
    backendMs: calls.reduce((sum, c) => sum + c.backendMs, 0),
  };
}

async function startLane(
  label: string,
  tree: '1k' | '10k',
  issuer: LocalIssuer,
  plan: Plan,
  target: (gateway: GatewayChild, world: OpenSrpWorld) => string,
  inspect: (upstream: Upstream) => Lane['inspect'],
): Promise<Lane> {
  const world = await startOpenSrpWorld(tree);
  const upstream = await startUpstream({ fhirBase: world.baseUrl, tree });
  const gateway = await startGateway(
    label,
    { PROXY_TO: upstream.url, TOKEN_ISSUER: issuer.issuerUrl, ACCESS_CHECKER: OPENSRP_CHECKER },
    plan,
  );
  return { world, upstream, gateway, url: target(gateway, world), inspect: inspect(upstream) };
}

async function stopLane(lane: Lane | undefined): Promise<void> {
  await lane?.gateway.stop();
  await lane?.upstream.stop();
  await lane?.world.close();
}

/**
 * Cold and warm cost, for the worker (whose assignment is the whole tree), of a sync request (app
 * config, practitioner graph and Location descendants resolved, then cached) and of
 * `/LocationHierarchy?_id=<root>`. Each runs on its own fresh gateway and its own backend, so that
 * neither warms the other (the two are started side by side, then measured one after the other).
 */
export async function measureOpenSrp(
  tree: '1k' | '10k',
  issuer: LocalIssuer,
  plan: Plan,
): Promise<OpenSrpMeasurement[]> {
  const { worker } = await openSrpTokens(issuer);
  let sync: Lane | undefined;
  let hierarchy: Lane | undefined;
  try {
    [sync, hierarchy] = await Promise.all([
      startLane(
        `opensrp-assignment-${tree}`,
        tree,
        issuer,
        plan,
        (gateway) => `${gateway.fhirBase}/Patient?_count=20`,
        (upstream) => async (status, body) => {
          if (status !== 200) return body.slice(0, 200);
          const stats = await upstream.stats();
          return `_tag with ${stats.lastTagValues} values, sent as ${stats.lastMethod}`;
        },
      ),
      startLane(
        `opensrp-hierarchy-${tree}`,
        tree,
        issuer,
        plan,
        (gateway, world) => `${gateway.url}/LocationHierarchy?_id=${world.root}`,
        () => async (status, body) =>
          status === 200
            ? `${(body.length / 1e6).toFixed(1)} MB answer, ${(body.match(/"Location\//g) ?? []).length} Location references`
            : body.slice(0, 200),
      ),
    ]);
    const syncCold = await timed(sync, worker);
    const hierarchyCold = await timed(hierarchy, worker);
    const syncWarm = await timedWarm(sync, worker);
    const hierarchyWarm = await timedWarm(hierarchy, worker);
    const locations = sync.world.locationCount;
    return [
      { what: 'assignment', locations, cold: syncCold, warm: syncWarm },
      { what: 'hierarchy', locations, cold: hierarchyCold, warm: hierarchyWarm },
    ];
  } finally {
    await Promise.all([stopLane(sync), stopLane(hierarchy)]);
  }
}

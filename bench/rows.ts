import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../test/support/free-port.js';
import type { LocalIssuer } from '../test/support/issuer.js';
import { builtEntry } from './build.js';
import { type GatewayChild, startGateway, type startUpstream } from './gateways.js';
import { measureRssUnderLoad, measureStreaming } from './memory.js';
import { findOrInstallNginx, startNginx } from './nginx.js';
import { OPENSRP_CHECKER, openSrpAvailable, openSrpTokens } from './opensrp-setup.js';
import type { Plan } from './plan.js';
import { startNodeChild } from './processes.js';
import { measureProxyRow, type ProxyTarget } from './proxy-row.js';
import { type AuditTraffic, type BenchResults, ROW } from './results.js';

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

export interface RowContext {
  readonly plan: Plan;
  readonly issuer: LocalIssuer;
  readonly upstream: Upstream;
  readonly results: BenchResults;
  readonly log: (line: string) => void;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function measure(ctx: RowContext, target: ProxyTarget): Promise<void> {
  ctx.log(`measuring: ${target.name}`);
  try {
    ctx.results.rows.push({ measured: await measureProxyRow(target, ctx.plan) });
  } catch (error) {
    ctx.results.rows.push({
      missing: { name: target.name, reason: `failed: ${(error as Error).message.split('\n')[0]}` },
    });
  }
}

async function withGateway(
  ctx: RowContext,
  label: string,
  env: Record<string, string>,
  use: (gateway: GatewayChild) => Promise<void>,
): Promise<void> {
  const gateway = await startGateway(
    label,
    { PROXY_TO: ctx.upstream.url, TOKEN_ISSUER: ctx.issuer.issuerUrl, ACCESS_CHECKER: 'permissive', ...env },
    ctx.plan,
  );
  try {
    await use(gateway);
  } finally {
    await gateway.stop();
  }
}

export async function directRow(ctx: RowContext, token: string): Promise<void> {
  await measure(ctx, { name: ROW.direct, fhirBase: ctx.upstream.url, headers: bearer(token), pids: [] });
}

export async function nginxRow(ctx: RowContext, token: string): Promise<void> {
  const found = findOrInstallNginx(ctx.log);
  if ('reason' in found) {
    ctx.results.rows.push({ missing: { name: ROW.nginx, reason: `unavailable: ${found.reason}` } });
    return;
  }
  const nginx = await startNginx(found.path, ctx.upstream.url);
  ctx.results.machine.nginx = nginx.version;
  try {
    await measure(ctx, { name: ROW.nginx, fhirBase: nginx.url, headers: bearer(token), pids: nginx.pids });
  } finally {
    await nginx.stop();
  }
}

/** The floor of this design: node:http and a pooled undici client, nothing else (bare-proxy-process.ts). */
export async function bareNodeRow(ctx: RowContext, token: string): Promise<void> {
  const proxy = await startNodeChild(builtEntry('bare-proxy-process.ts'), {
    UPSTREAM: new URL(ctx.upstream.url).origin,
  });
  try {
    await measure(ctx, {
      name: ROW.bareNode,
      fhirBase: `${proxy.url}${new URL(ctx.upstream.url).pathname}`,
      headers: bearer(token),
      pids: [proxy.pid],
      jit: true,
    });
  } finally {
    await proxy.stop();
  }
}

/** The pass-through row, then the memory checks on the same gateway process. */
export async function permissiveRow(ctx: RowContext, token: string): Promise<void> {
  await withGateway(ctx, 'permissive', { RUN_MODE: 'DEV' }, async (gateway) => {
    const target = {
      name: ROW.permissive,
      fhirBase: gateway.fhirBase,
      headers: bearer(token),
      pids: [gateway.pid],
      jit: true,
    };
    await measure(ctx, target);
    try {
      ctx.log('measuring: RSS under load and streaming');
      ctx.results.memory.underLoad = await measureRssUnderLoad(target, gateway.pid, ctx.plan);
      ctx.results.memory.streaming = await measureStreaming(target, gateway.pid, ctx.plan.streamMegabytes);
    } catch (error) {
      ctx.results.memory.missing = `failed: ${(error as Error).message.split('\n')[0]}`;
    }
  });
}

/** Two ANDROID_CLIENT users on one gateway: the whole 1,000-Location tree, and one facility. */
export async function openSrpSyncRows(ctx: RowContext): Promise<void> {
  if (!openSrpAvailable()) {
    for (const name of [ROW.syncTree, ROW.syncFacility]) {
      ctx.results.rows.push({ missing: { name, reason: 'pending: permission checker not available' } });
    }
    return;
  }
  const tokens = await openSrpTokens(ctx.issuer);
  await withGateway(ctx, 'opensrp-sync', { ACCESS_CHECKER: OPENSRP_CHECKER }, async (gateway) => {
    for (const [name, token] of [
      [ROW.syncTree, tokens.worker],
      [ROW.syncFacility, tokens.other],
    ] as const) {
      // The cold request (app config, practitioner graph, Location tree) is made by checkTarget, before the load.
      const warmUp = await fetch(`${gateway.fhirBase}/Patient?_count=20`, { headers: bearer(token) });
      await warmUp.text();
      await ctx.upstream.reset();
      await measure(ctx, {
        name,
        fhirBase: gateway.fhirBase,
        headers: bearer(token),
        pids: [gateway.pid],
        jit: true,
      });
      const stats = await ctx.upstream.stats();
      ctx.results.syncTraffic[name] = {
        patientSearches: stats.patientSearches,
        withTag: stats.withTag,
        lastTagValues: stats.lastTagValues,
        lastMethod: stats.lastMethod,
        lookups: stats.lookups,
      };
    }
  });
}

export async function postProcessedRow(ctx: RowContext, token: string): Promise<void> {
  await withGateway(
    ctx,
    'post-processed',
    { RUN_MODE: 'DEV', ACCESS_CHECKER: 'bench-postprocess' },
    async (gateway) => {
      await measure(ctx, {
        name: ROW.postProcessed,
        fhirBase: gateway.fhirBase,
        headers: bearer(token),
        pids: [gateway.pid],
        jit: true,
      });
    },
  );
}

/**
 * The pass-through row with every interaction audited (issue 12): the same searches, each one
 * AuditEvent naming its Patients, written in transaction Bundles to a stand-in FHIR server
 * (bench/audit-sink-process.ts). Compared with the permissive row, it is what auditing costs.
 */
export async function auditedRow(ctx: RowContext, token: string): Promise<void> {
  const sink = await startNodeChild(builtEntry('audit-sink-process.ts'), {});
  const metricsPort = await freePort();
  const env = {
    RUN_MODE: 'DEV',
    AUDIT_EVENT_ACTIONS_CONFIG: 'CRUDE',
    AUDIT_SINK_URL: sink.url,
    METRICS_PORT: String(metricsPort),
  };
  try {
    await withGateway(ctx, 'audited', env, async (gateway) => {
      await measure(ctx, {
        name: ROW.audited,
        fhirBase: gateway.fhirBase,
        headers: bearer(token),
        pids: [gateway.pid],
        jit: true,
      });
      // The last batch waits at most AUDIT_FLUSH_INTERVAL_MS (1 s by default).
      await sleep(1500);
      ctx.results.audit = await auditTraffic(sink.url, metricsPort);
    });
  } finally {
    await sink.stop();
  }
}

async function auditTraffic(sinkUrl: string, metricsPort: number): Promise<AuditTraffic> {
  const stats = (await (await fetch(`${new URL(sinkUrl).origin}/__bench/stats`)).json()) as AuditTraffic;
  try {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    let dropped = 0;
    for (const match of text.matchAll(/^fhir_gateway_audit_events_dropped_total\{[^}]*\} (\d+)/gm)) {
      dropped += Number(match[1]);
    }
    return { ...stats, dropped };
  } catch {
    return stats;
  }
}

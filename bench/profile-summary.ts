/**
 * `tsx bench/profile-summary.ts <file.cpuprofile> [top]`: the functions with the most self time in
 * a V8 CPU profile (from `npm run bench -- --profile`, which runs each gateway with --cpu-prof).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `src/server/app.js`, `node_modules/undici/…`, `node:events`: the repo and build prefixes removed. */
function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\/.*\/node_modules\/\.cache\/fhir-gateway-bench\//, '')
    .replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/');
}

export function topFrames(profile: Profile, top = 20): { frame: string; selfMs: number; percent: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const frame = `${functionName || '(anonymous)'} ${where}`.trim();
    selfUs.set(frame, (selfUs.get(frame) ?? 0) + delta);
    totalUs += delta;
  });
  return [...selfUs.entries()]
    .sort(([, a], [, b]) => b - a)
    .slice(0, top)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, percent: (100 * us) / totalUs }));
}

/** Where a frame's code lives: `src/<folder>`, `node_modules/<package>`, `node:<module>`, or a V8 pseudo-frame. */
function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `native ${functionName}`;
  const short = shortUrl(url);
  if (short.startsWith('bench/')) return 'bench';
  const src = /^src\/([^/]+)\//.exec(short);
  if (src) return `src/${src[1]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(short);
  if (pkg) return pkg[1]!;
  if (short.startsWith('node:')) return short.replace(/^node:(internal\/)?/, 'node:').split('/')[0]!;
  return short.split('/').slice(-2).join('/');
}

/** Self time per owner (package or src folder), idle excluded, as a share of the busy time. */
export function selfTimeByOwner(profile: Profile): { owner: string; ms: number; percent: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    const owner = ownerOf(node.callFrame.url, node.callFrame.functionName);
    const delta = profile.timeDeltas[i] ?? 0;
    totals.set(owner, (totals.get(owner) ?? 0) + delta);
    busyUs += delta;
  });
  return [...totals.entries()]
    .sort(([, a], [, b]) => b - a)
    .map(([owner, us]) => ({ owner, ms: us / 1000, percent: (100 * us) / busyUs }));
}

/** A readable summary of one profile: top frames, then self time by owner. */
export function summarize(profile: Profile, top = 25): string {
  const lines = ['Top frames by self time:'];
  for (const { frame, selfMs, percent } of topFrames(profile, top)) {
    lines.push(`${percent.toFixed(1).padStart(5)}%  ${selfMs.toFixed(0).padStart(6)} ms  ${frame}`);
  }
  lines.push('', 'Self time by owner (idle excluded):');
  for (const { owner, ms, percent } of selfTimeByOwner(profile).slice(0, top)) {
    lines.push(`${percent.toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(6)} ms  ${owner}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * For each gateway profiled by `--profile` (one folder per gateway, one file per thread), writes
 * `summary.txt` for its main thread (thread 0 in the file name). Returns the summaries written.
 */
export function summarizeProfiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const written: string[] = [];
  for (const label of readdirSync(root)) {
    const dir = join(root, label);
    const main = readdirSync(dir).find((name) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(name));
    if (!main) continue;
    const summary = summarize(JSON.parse(readFileSync(join(dir, main), 'utf8')) as Profile);
    writeFileSync(join(dir, 'summary.txt'), summary);
    written.push(join(dir, 'summary.txt'));
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  process.stdout.write(summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top ?? 25)));
}

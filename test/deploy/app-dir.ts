/**
 * The gateway as the image holds it, on this machine: `npm run build` once per source state, then a
 * temp directory laid out by the Dockerfile's runtime stage (its COPY and RUN steps, in order), where
 * the image's entry command runs with the image's environment.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import { REPO_ROOT, readDockerfile, type Stage } from './dockerfile.js';

const DONE = '.complete';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const inputs = [
    ...filesUnder(join(REPO_ROOT, 'src')).sort(),
    ...['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'].map((f) =>
      join(REPO_ROOT, f),
    ),
  ];
  for (const file of inputs) hash.update(relative(REPO_ROOT, file)).update('\0').update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/**
 * `dist/` exactly as `npm run build` makes it (only the output directory moved), built once per state
 * of the sources and shared by the test processes: the repository's own dist/ is left alone, since
 * other work may rebuild it meanwhile. One process builds (a lock directory); the others wait for it.
 */
export function buildDist(): string {
  const dir = join(tmpdir(), `fhir-gateway-dist-${sourceHash()}`);
  const lock = `${dir}.lock`;
  while (!existsSync(join(dir, DONE))) {
    try {
      mkdirSync(lock);
    } catch {
      // Another process is building; a lock left by a killed one is taken over after five minutes.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (since !== undefined && Date.now() - since > 300_000) rmSync(lock, { force: true, recursive: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      continue;
    }
    try {
      if (!existsSync(join(dir, DONE))) build(dir);
    } finally {
      rmSync(lock, { force: true, recursive: true });
    }
  }
  return dir;
}

function build(dir: string): void {
  removeStaleBuilds();
  rmSync(dir, { recursive: true, force: true });
  const staging = mkdtempSync(`${dir}.building-`);
  const result = spawnSync('npm', ['run', 'build', '--', '--outDir', staging], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`npm run build failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  writeFileSync(join(staging, DONE), '');
  renameSync(staging, dir);
}

export type Install =
  /** The image's own `npm ci --omit=dev …` (from the npm cache when it can). */
  | 'production'
  /** node_modules linked to the repository's (dev dependencies included): for tests about the process, not the install. */
  | 'link';

export interface AppDir {
  /** Stands for the image's WORKDIR. */
  readonly dir: string;
  readonly stage: Stage;
  /** The image's ENV. */
  readonly env: Readonly<Record<string, string>>;
  /** The image's entry command (ENTRYPOINT then CMD), to run with `cwd: dir`. */
  readonly command: readonly string[];
  remove(): void;
}

/** The runtime stage of the Dockerfile, replayed into a temp directory. */
export function layoutApp(install: Install): AppDir {
  const stages = readDockerfile();
  const runtime = stages.at(-1)!;
  const dist = buildDist();
  const dir = mkdtempSync(join(tmpdir(), 'fhir-gateway-app-'));
  const inApp = (imagePath: string): string => {
    const rel = posix.relative(runtime.workdir, imagePath);
    if (rel.startsWith('..')) throw new Error(`${imagePath} is outside WORKDIR ${runtime.workdir}`);
    return join(dir, rel);
  };
  try {
    for (const step of runtime.steps) {
      if (step.kind === 'copy') copyStep(step, stages, dist, inApp);
      else runStep(step.command, dir, install);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const command = [...(runtime.entrypoint ?? []), ...(runtime.cmd ?? [])];
  return {
    dir,
    stage: runtime,
    env: runtime.env,
    command,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function copyStep(
  step: Extract<Stage['steps'][number], { kind: 'copy' }>,
  stages: readonly Stage[],
  dist: string,
  inApp: (imagePath: string) => string,
): void {
  for (const source of step.sources) {
    let from: string;
    if (step.from === undefined) {
      from = join(REPO_ROOT, source);
    } else {
      // Only the build stage's compiler output is copied across stages.
      const build = stages.find((s) => s.name === step.from);
      const outDir = (
        JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as {
          compilerOptions: { outDir: string };
        }
      ).compilerOptions.outDir;
      if (!build || source !== posix.join(build.workdir, outDir)) {
        throw new Error(`COPY --from=${step.from} ${source}: not the build stage's ${outDir}/`);
      }
      from = dist;
    }
    const target = step.dest.endsWith('/')
      ? inApp(posix.join(step.dest, posix.basename(source)))
      : inApp(step.dest);
    cpSync(from, target, {
      recursive: true,
      filter: (path) => !path.endsWith(DONE),
    });
  }
}

function runStep(command: string, dir: string, install: Install): void {
  for (const part of command.split('&&').map((p) => p.trim())) {
    const words = part.split(/\s+/);
    if (words[0] === 'npm' && words[1] === 'ci') {
      if (install === 'link') {
        symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      } else {
        // The image's own install; --prefer-offline takes packages from the npm cache when they are there.
        execFileSync('npm', [...words.slice(1), '--prefer-offline'], { cwd: dir, stdio: 'pipe' });
      }
    } else if (part !== 'npm cache clean --force') {
      // (The cache clean-up only makes the image smaller; run here it would empty this machine's cache.)
      throw new Error(`the runtime stage runs '${part}': teach test/deploy/app-dir.ts what it does`);
    }
  }
}

/** Builds of earlier source states not touched for a day. */
function removeStaleBuilds(): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('fhir-gateway-dist-')) continue;
    const path = join(tmpdir(), name);
    if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
  }
}

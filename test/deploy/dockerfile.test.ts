/**
 * The Dockerfile, checked without a Docker engine: every path it copies is in the build context
 * (and not hidden by .dockerignore), the runtime stage is what docs/deployment.md says (Node 20 slim,
 * production dependencies, non-root, port 8080, exec-form entry command, a HEALTHCHECK on a path the
 * gateway serves), and its ENV uses the gateway's variable names. Running it: production-start.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CONFIG_VARIABLE_SOURCES } from '../../src/config/variables.js';
import { send } from '../support/http.js';
import { type Stack, startStack } from '../support/stack.js';
import { REPO_ROOT, readDockerfile, type Stage } from './dockerfile.js';

const stages = readDockerfile();
const build = stages[0]!;
const runtime = stages.at(-1)!;
const KNOWN_VARIABLES = new Set(CONFIG_VARIABLE_SOURCES.flatMap((s) => s.variables.map((v) => v.name)));
/** The process's own memory settings (Node's and glibc's), not the gateway's configuration. */
const RUNTIME_TUNING = ['NODE_OPTIONS', 'MALLOC_ARENA_MAX'];

/** Docker's .dockerignore rules: later lines win, `!` re-includes, a matched directory covers its contents. */
function dockerignored(path: string): boolean {
  const lines = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const toRegExp = (pattern: string) => {
    let source = '';
    const glob = pattern.replace(/\/+$/, '');
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i]!;
      if (c === '*' && glob[i + 1] === '*') {
        source += '.*';
        i += glob[i + 2] === '/' ? 2 : 1;
      } else if (c === '*') source += '[^/]*';
      else if (c === '?') source += '[^/]';
      else source += c.replace(/[.+^${}()|[\]\\]/, '\\$&');
    }
    return new RegExp(`^${source}$`);
  };
  const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const line of lines) {
    const negated = line.startsWith('!');
    const pattern = toRegExp(negated ? line.slice(1) : line);
    if (prefixes.some((p) => pattern.test(p))) ignored = !negated;
  }
  return ignored;
}

const contextCopies = (stage: Stage) =>
  stage.steps.flatMap((s) => (s.kind === 'copy' && s.from === undefined ? s.sources : []));
const runs = (stage: Stage) => stage.steps.flatMap((s) => (s.kind === 'run' ? [s.command] : []));

describe('Dockerfile', () => {
  test('two stages: a build stage, and a Node 20 slim runtime', () => {
    assert.equal(stages.length, 2);
    assert.equal(build.name, 'build');
    assert.match(runtime.base, /^node:20(\.\d+)*-(bookworm-|bullseye-)?slim$/);
  });

  test('every COPY source exists in the repository and is in the build context', () => {
    for (const stage of stages) {
      for (const source of contextCopies(stage)) {
        assert.ok(existsSync(join(REPO_ROOT, source)), `${source} exists`);
        assert.equal(dockerignored(source), false, `${source} is not excluded by .dockerignore`);
      }
    }
    for (const step of runtime.steps) {
      if (step.kind === 'copy' && step.from !== undefined) {
        assert.ok(
          stages.some((s) => s.name === step.from && s !== runtime),
          `--from=${step.from} names an earlier stage`,
        );
      }
    }
  });

  test('.dockerignore keeps the context small and free of local state', () => {
    for (const path of [
      'node_modules/fastify/package.json',
      'dist/main.js',
      '.git/HEAD',
      '.env',
      'test/support/stack.ts',
    ]) {
      assert.ok(dockerignored(path), `${path} stays out of the context`);
    }
  });

  test('the build stage has what `npm run build` reads: dev dependencies, both tsconfigs, src', () => {
    assert.ok(
      runs(build).some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev')),
      runs(build).join('\n'),
    );
    assert.ok(runs(build).includes('npm run build'));
    const copied = contextCopies(build);
    const buildConfig = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as {
      extends: string;
      include: string[];
    };
    for (const needed of [
      'tsconfig.build.json',
      buildConfig.extends.replace(/^\.\//, ''),
      ...buildConfig.include,
    ]) {
      assert.ok(copied.includes(needed), `the build stage copies ${needed}`);
    }
    const scripts = (
      JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    assert.match(scripts.build!, /tsconfig\.build\.json/);
  });

  test('the runtime stage installs production dependencies only, without lifecycle scripts', () => {
    const install = runs(runtime).find((r) => /^npm ci\b/.test(r));
    assert.ok(install, 'npm ci in the runtime stage');
    assert.match(install, /--omit=dev/);
    assert.match(install, /--ignore-scripts/);
    assert.deepEqual(contextCopies(runtime).sort(), ['package-lock.json', 'package.json', 'resources']);
  });

  test('the default config files are shipped at the Java images’ relative paths', () => {
    const shipped = runtime.steps.some(
      (s) =>
        s.kind === 'copy' && s.sources.includes('resources') && s.dest === `${runtime.workdir}/resources`,
    );
    assert.ok(shipped, 'resources/ is copied to <WORKDIR>/resources');
    assert.equal(runtime.workdir, '/app', 'the OpenSRP chart mounts overrides under /app/resources');
    const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const named = [...text.matchAll(/resources\/[\w.-]+\.json/g)].map((m) => m[0]);
    for (const file of [
      'resources/hapi_page_url_allowed_queries.json',
      'resources/hapi_sync_filter_ignored_queries.json',
    ]) {
      assert.ok(named.includes(file), `the Dockerfile names ${file}`);
    }
    for (const file of named) assert.ok(existsSync(join(REPO_ROOT, file)), `${file} exists`);
  });

  test('ENV uses the gateway’s variable names, and required settings have no baked-in value', () => {
    for (const name of Object.keys(runtime.env))
      assert.ok(
        KNOWN_VARIABLES.has(name) || RUNTIME_TUNING.includes(name),
        `${name} is a gateway variable or a runtime memory setting`,
      );
    for (const required of ['PROXY_TO', 'TOKEN_ISSUER', 'ACCESS_CHECKER'])
      assert.equal(runtime.env[required], undefined);
    assert.equal(runtime.env.RUN_MODE, 'PROD');
    assert.equal(runtime.env.PROXY_PORT, '8080');
    assert.deepEqual(runtime.expose, ['8080']);
  });

  test('runs as a numeric non-root user; node is PID 1 (exec form) and gets SIGTERM', () => {
    assert.match(runtime.user ?? '', /^[1-9]\d*(:\d+)?$/);
    assert.deepEqual(runtime.shellForm, []);
    assert.deepEqual(runtime.entrypoint, ['node', 'dist/main.js']);
    assert.equal(runtime.stopSignal ?? 'SIGTERM', 'SIGTERM');
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const tuning = RUNTIME_TUNING.map((name) => `${name}=${runtime.env[name]} `).join('');
    assert.equal(pkg.scripts.start, `${tuning}node dist/main.js`, 'npm start runs what the image runs, as it runs it');
  });

  describe('the HEALTHCHECK', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack();
    });
    after(() => stack.close());

    test('probes a path the gateway answers 200 on', async () => {
      const check = runtime.healthcheck;
      assert.ok(check, 'a HEALTHCHECK');
      const script = check.command.join(' ');
      const path = /\/healthz|\/readyz/.exec(script)?.[0];
      assert.equal(path, '/healthz', 'liveness: the process answers, whatever its dependencies do');
      assert.equal((await send(stack.gatewayUrl, { path })).status, 200);
      assert.ok(
        Number.parseInt(check.flags['start-period'] ?? '0', 10) > 0,
        'a start period covers start-up',
      );
    });
  });
});

/**
 * One validation path (issue 9): for every environment, `check-config` and `start` must agree:
 * the same exit status and the same one-line reason. Each row runs both commands as processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { configErrorLine, runCli } from './cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'check-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const BASE = {
  PROXY_TO: 'http://127.0.0.1:9/fhir',
  TOKEN_ISSUER: 'http://127.0.0.1:9/realms/test',
  ACCESS_CHECKER: 'permissive',
  RUN_MODE: 'DEV',
  PROXY_PORT: '0',
  PROXY_HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
};
const PERMISSION = { ...BASE, ACCESS_CHECKER: 'permission', RUN_MODE: 'PROD' };

const truncated = file('truncated.json', '{"entries": [{"path": "Composition", "requestType": "GET"');
const wrongShape = file('wrong-shape.json', '{"entries": [{"requestType": "GET", "queryParams": {}}]}');
const notJson = file('not-json.json', 'entries: []');

/** [name, environment, the reason start and check-config must both give (undefined: valid)]. */
const CASES: [string, Record<string, string>, RegExp | undefined][] = [
  ['valid (permissive in DEV)', BASE, undefined],
  ['valid (permission in PROD)', PERMISSION, undefined],
  ['missing PROXY_TO', { ...BASE, PROXY_TO: '' }, /PROXY_TO: is required/],
  ['non-numeric PROXY_PORT', { ...BASE, PROXY_PORT: 'eighty' }, /PROXY_PORT: must be a whole number/],
  [
    'HS256 in TOKEN_ALGORITHMS',
    { ...BASE, TOKEN_ALGORITHMS: 'HS256' },
    /TOKEN_ALGORITHMS: must not allow HS256/,
  ],
  ['audit letters with commas', { ...BASE, AUDIT_EVENT_ACTIONS_CONFIG: 'C,R' }, /AUDIT_EVENT_ACTIONS_CONFIG/],
  [
    'METRICS_PORT equal to PROXY_PORT',
    { ...BASE, PROXY_PORT: '8181', METRICS_PORT: '8181' },
    /METRICS_PORT: must differ/,
  ],
  [
    'unknown ACCESS_CHECKER',
    { ...BASE, ACCESS_CHECKER: 'nope' },
    /ACCESS_CHECKER: unknown access checker 'nope'/,
  ],
  [
    'permissive in production',
    { ...BASE, RUN_MODE: 'PROD' },
    /ACCESS_CHECKER: 'permissive' is only allowed with RUN_MODE=DEV/,
  ],
  [
    'missing ALLOWED_QUERIES_FILE',
    { ...BASE, ALLOWED_QUERIES_FILE: join(dir, 'absent.json') },
    /ALLOWED_QUERIES_FILE/,
  ],
  ['truncated ALLOWED_QUERIES_FILE', { ...BASE, ALLOWED_QUERIES_FILE: truncated }, /ALLOWED_QUERIES_FILE/],
  [
    'invalid ALLOWED_QUERIES_FILE entry',
    { ...BASE, ALLOWED_QUERIES_FILE: wrongShape },
    /ALLOWED_QUERIES_FILE/,
  ],
  [
    'missing SYNC_FILTER_IGNORE_RESOURCES_FILE',
    { ...PERMISSION, SYNC_FILTER_IGNORE_RESOURCES_FILE: join(dir, 'absent.json') },
    /SYNC_FILTER_IGNORE_RESOURCES_FILE/,
  ],
  [
    'SYNC_FILTER_IGNORE_RESOURCES_FILE not JSON',
    { ...PERMISSION, SYNC_FILTER_IGNORE_RESOURCES_FILE: notJson },
    /SYNC_FILTER_IGNORE_RESOURCES_FILE/,
  ],
  [
    'non-numeric cache TTL',
    { ...PERMISSION, opensrp_cache_timeout_seconds: 'five minutes' },
    /opensrp_cache_timeout_seconds: must be a whole number of seconds/,
  ],
  [
    'non-numeric legacy cache TTL',
    { ...PERMISSION, OPENSRP_CACHE_EXPIRY_SECONDS: '-1' },
    /OPENSRP_CACHE_EXPIRY_SECONDS/,
  ],
  [
    'bad OpenSRP flag',
    { ...PERMISSION, OPENSRP_ANDROID_CONFIG_WRITES: 'yes' },
    /OPENSRP_ANDROID_CONFIG_WRITES/,
  ],
  ['unresolvable PROXY_HOST', { ...BASE, PROXY_HOST: 'no-such-host.invalid' }, /PROXY_HOST: cannot resolve/],
  [
    'PROXY_HOST not an address of this machine',
    { ...BASE, PROXY_HOST: '192.0.2.1' },
    /PROXY_HOST: "192.0.2.1" \(192.0.2.1\) is not an address of this machine/,
  ],
];

describe('check-config and start agree on every environment', () => {
  for (const [name, env, reason] of CASES) {
    test(name, async () => {
      const [started, checked] = await Promise.all([runCli(['start'], env), runCli(['check-config'], env)]);
      if (reason === undefined) {
        assert.ok(started.listened, `start listens: ${started.stderr}`);
        assert.equal(checked.code, 0, checked.stderr);
        assert.match(checked.stdout, /configuration is valid/);
        return;
      }
      assert.equal(started.listened, false, 'start refused before listening');
      assert.equal(started.code, 2, started.stderr);
      assert.equal(checked.code, 2, checked.stderr);
      const startLine = configErrorLine(started);
      assert.equal(started.stderr.trim(), startLine, 'start prints one line');
      assert.match(startLine ?? '', reason);
      assert.equal(configErrorLine(checked), startLine, 'the same line');
      assert.equal(checked.stdout, '', 'nothing listed for an invalid configuration');
    });
  }
});

describe('the effective configuration', () => {
  test('lists every setting with its origin, and hides secrets', async () => {
    const secret = 'k'.repeat(40);
    const run = await runCli(['check-config'], {
      ...PERMISSION,
      PAGING_LINK_KEY: secret,
      PROXY_TO: 'http://gateway:s3cret-pw@127.0.0.1:9/fhir',
    });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stdout.includes(secret), 'PAGING_LINK_KEY is not printed');
    assert.ok(!run.stdout.includes('s3cret-pw'), 'a password in a URL is not printed');
    assert.match(run.stdout, /^PAGING_LINK_KEY=<set, hidden> +# environment$/m);
    assert.match(run.stdout, /^PROXY_TO=http:\/\/gateway:hidden@127\.0\.0\.1:9\/fhir +# environment$/m);
    assert.match(run.stdout, /^PROXY_PORT=0 +# environment$/m);
    assert.match(run.stdout, /^BACKEND_TIMEOUT_MS=60000 +# default$/m);
    assert.match(run.stdout, /^TOKEN_AUDIENCE= +# unset$/m);
    assert.match(run.stdout, /^opensrp_cache_timeout_seconds=300 +# default$/m, 'plugin settings too');
  });

  test('a secret read from <NAME>_FILE is hidden too, and says where it came from', async () => {
    const secret = 'f'.repeat(40);
    const run = await runCli(['check-config'], {
      ...PERMISSION,
      PAGING_LINK_KEY_FILE: file('paging.key', secret),
    });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stdout.includes(secret));
    assert.match(run.stdout, /^PAGING_LINK_KEY=<set, hidden> +# file \(PAGING_LINK_KEY_FILE\)$/m);
  });

  test('warnings go to stderr as plain lines, the listing stays on stdout', async () => {
    const run = await runCli(['check-config'], PERMISSION);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^fhir-gateway: warning: PAGING_LINK_KEY is unset/m);
    assert.ok(!run.stdout.includes('warning'), run.stdout);
  });
});

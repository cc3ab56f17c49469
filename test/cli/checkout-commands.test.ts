/**
 * The README's commands from a built checkout: `npm run check-config` and `npx fhir-gateway ...`
 * run the built CLI (dist/main.js, package.json `bin`), with the usual exit statuses. The checkout is
 * the deploy tests' built app directory (package.json, dist from `npm run build`, node_modules).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type AppDir, layoutApp } from '../deploy/app-dir.js';

const VALID = {
  PROXY_TO: 'http://127.0.0.1:9/fhir',
  TOKEN_ISSUER: 'http://127.0.0.1:9/realms/test',
  ACCESS_CHECKER: 'permissive',
  RUN_MODE: 'DEV',
  PROXY_HOST: '127.0.0.1',
};

let app: AppDir;
before(() => {
  app = layoutApp('link');
});
after(() => app.remove());

function run(command: string, args: string[], env: Record<string, string>) {
  const result = spawnSync(command, args, {
    cwd: app.dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('from a built checkout', () => {
  test('npm run check-config validates the environment', () => {
    const valid = run('npm', ['run', '--silent', 'check-config'], VALID);
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(valid.stdout, /^configuration is valid$/m);
    const invalid = run('npm', ['run', '--silent', 'check-config'], { ...VALID, ACCESS_CHECKER: 'nope' });
    assert.equal(invalid.code, 2, invalid.stderr);
    assert.match(
      invalid.stderr,
      /^fhir-gateway: configuration error: ACCESS_CHECKER: unknown access checker 'nope'/m,
    );
  });

  test('npx fhir-gateway runs the package bin', () => {
    const help = run('npx', ['--no-install', 'fhir-gateway', '--help'], {});
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^usage: fhir-gateway/);
    const check = run('npx', ['--no-install', 'fhir-gateway', 'check-config'], VALID);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^PROXY_TO=http:\/\/127\.0\.0\.1:9\/fhir +# environment$/m);
  });
});

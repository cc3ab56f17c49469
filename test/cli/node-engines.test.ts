/**
 * The gateway runs on Node 20 (package.json `engines`), so `npm ci` must not install a package that
 * declares it needs a newer Node: npm only warns (EBADENGINE), and the package may fail at run
 * time. Issue 9: fastify's light-my-request pulled `cookie@2` (Node >= 22); package.json overrides
 * it with cookie 1.1 (Node >= 18), which has the API light-my-request uses.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

// fastify's own dependency, so always installed; its range grammar is npm's.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
};

interface Lock {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; dev?: boolean }>;
}

test('every locked package accepts the oldest Node the gateway supports', () => {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
  const oldest = semver.minVersion(manifest.engines.node)?.version;
  assert.ok(oldest, manifest.engines.node);
  assert.ok(oldest.startsWith('20.'), `package.json engines names Node 20: ${manifest.engines.node}`);
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as Lock;
  const refusing = Object.entries(lock.packages).flatMap(([path, entry]) => {
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    return range === undefined || semver.satisfies(oldest, range)
      ? []
      : [`${path}@${entry.version}: ${range}`];
  });
  assert.deepEqual(refusing, [], `packages that refuse Node ${oldest}`);
});

test('light-my-request gets a cookie release with the function it calls', () => {
  const require = createRequire(createRequire(import.meta.url).resolve('light-my-request'));
  const cookie = require('cookie') as { stringifySetCookie?: (c: { name: string; value: string }) => string };
  assert.equal(cookie.stringifySetCookie?.({ name: 'a', value: 'b' }), 'a=b');
});

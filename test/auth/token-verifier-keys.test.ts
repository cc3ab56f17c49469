/** Key sources, rotation, issuer outages and dev mode, each against its own real local issuer. */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTokenVerifier, type TokenVerifierOptions } from '../../src/auth/token-verifier.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { recordingLogger, rejectsWith, waitFor } from './auth-test-kit.js';

async function withIssuer(run: (issuer: LocalIssuer) => Promise<void>): Promise<void> {
  const issuer = await startIssuer();
  try {
    await run(issuer);
  } finally {
    await issuer.close();
  }
}

function verifierFor(issuer: LocalIssuer, overrides: Partial<TokenVerifierOptions> = {}) {
  const logger = recordingLogger();
  const verifier = createTokenVerifier({
    issuer: issuer.issuerUrl,
    wellKnownEndpoint: '/.well-known/openid-configuration',
    algorithms: ['RS256'],
    clockSkewSeconds: 0,
    devMode: false,
    logger,
    ...overrides,
  });
  return { verifier, logger };
}

describe('key rotation', () => {
  test('a token signed by a new kid is accepted without restarting the verifier', () =>
    withIssuer(async (issuer) => {
      const { verifier } = verifierFor(issuer, { jwksCooldownMs: 0 });
      verifier.start();
      await waitFor(() => verifier.ready());
      const oldKid = issuer.currentKid;
      const signedBeforeRotation = await issuer.mint();
      await verifier.verify(`Bearer ${await issuer.mint()}`);
      const certsBefore = issuer.requestCount('/certs');

      const newKid = await issuer.rotateKey();
      assert.notEqual(newKid, oldKid);
      const verified = await verifier.verify(`Bearer ${await issuer.mint({ sub: 'after-rotation' })}`);
      assert.equal(verified.subject, 'after-rotation');
      assert.equal(
        issuer.requestCount('/certs'),
        certsBefore + 1,
        'the unknown kid made it refetch the JWKS',
      );
      // The old key left the JWKS, so a token it signed (never seen before) is now refused.
      await rejectsWith(verifier.verify(`Bearer ${signedBeforeRotation}`), 401, 'invalid_token', /not known/);
      verifier.close();
    }));

  test('with keepOld, tokens from both keys are accepted', () =>
    withIssuer(async (issuer) => {
      const { verifier } = verifierFor(issuer, { jwksCooldownMs: 0 });
      const signedByOld = await issuer.mint({ sub: 'old' });
      await issuer.rotateKey({ keepOld: true });
      const signedByNew = await issuer.mint({ sub: 'new' });
      assert.equal((await verifier.verify(`Bearer ${signedByOld}`)).subject, 'old');
      assert.equal((await verifier.verify(`Bearer ${signedByNew}`)).subject, 'new');
      verifier.close();
    }));
});

describe('Keycloak realm public_key fallback (no jwks_uri in discovery)', () => {
  test('verifies with the realm key and never asks for a JWKS', () =>
    withIssuer(async (issuer) => {
      issuer.setMode('keycloak-public-key-only');
      const { verifier, logger } = verifierFor(issuer);
      const verified = await verifier.verify(`Bearer ${await issuer.mint({ sub: 'kc' })}`);
      assert.equal(verified.subject, 'kc');
      assert.ok(verifier.ready());
      assert.equal(verifier.discovery()?.jwks_uri, undefined);
      assert.equal(issuer.requestCount('/realms/test'), 1, 'the realm document was read once');
      assert.equal(issuer.requestCount('/certs'), 0);
      assert.ok(logger.records.some((r) => JSON.stringify(r.obj).includes('realm-public-key')));
      await rejectsWith(
        verifier.verify(`Bearer ${await issuer.mintHostile('bad-signature')}`),
        401,
        'invalid_token',
        /signature/,
      );
      await rejectsWith(
        verifier.verify(`Bearer ${await issuer.mintHostile('hs256-with-public-key')}`),
        401,
        'invalid_token',
      );
      verifier.close();
    }));
});

describe('issuer availability', () => {
  test('down at start: 503 issuer_unavailable (not 401), then ready once the issuer is back', () =>
    withIssuer(async (issuer) => {
      issuer.setMode('down');
      const { verifier, logger } = verifierFor(issuer, { retryInitialMs: 20, retryMaxMs: 50 });
      verifier.start();
      const token = await issuer.mint();
      await rejectsWith(verifier.verify(`Bearer ${token}`), 503, 'issuer_unavailable');
      assert.equal(verifier.ready(), false);
      assert.equal(verifier.discovery(), undefined);
      await waitFor(() => issuer.requestCount('openid-configuration') >= 3);
      assert.ok(logger.records.some((r) => r.level === 'warn' && /retrying/.test(r.msg ?? '')));

      issuer.setMode('jwks');
      await waitFor(() => verifier.ready());
      assert.equal(verifier.discovery()?.issuer, issuer.issuerUrl);
      assert.ok(await verifier.verify(`Bearer ${token}`));
      const attempts = issuer.requestCount('openid-configuration');
      await new Promise((resolve) => setTimeout(resolve, 120));
      assert.equal(issuer.requestCount('openid-configuration'), attempts, 'retries stop once loaded');
      verifier.close();
    }));

  test('without start(), verify() loads on demand and recovers as soon as the issuer answers', () =>
    withIssuer(async (issuer) => {
      issuer.setMode('down');
      const { verifier } = verifierFor(issuer);
      const token = await issuer.mint();
      await rejectsWith(verifier.verify(`Bearer ${token}`), 503, 'issuer_unavailable');
      issuer.setMode('jwks');
      assert.equal((await verifier.verify(`Bearer ${token}`)).issuer, issuer.issuerUrl);
      assert.ok(verifier.ready());
      verifier.close();
    }));

  test('concurrent first requests share one discovery load', () =>
    withIssuer(async (issuer) => {
      const { verifier } = verifierFor(issuer);
      const tokens = await Promise.all(Array.from({ length: 8 }, (_, i) => issuer.mint({ sub: `u${i}` })));
      await Promise.all(tokens.map((token) => verifier.verify(`Bearer ${token}`)));
      assert.equal(issuer.requestCount('openid-configuration'), 1);
      assert.equal(issuer.requestCount('/certs'), 1);
      verifier.close();
    }));

  test('a JWKS refetch that fails after loading is a 503, not a 401', () =>
    withIssuer(async (issuer) => {
      const { verifier } = verifierFor(issuer, { jwksCooldownMs: 0 });
      await verifier.verify(`Bearer ${await issuer.mint()}`);
      issuer.setMode('down');
      await rejectsWith(
        verifier.verify(`Bearer ${await issuer.mintHostile('unknown-kid')}`),
        503,
        'issuer_unavailable',
      );
      verifier.close();
    }));
});

describe('dev mode', () => {
  const otherIssuer = 'https://other.example.org/realms/dev';

  test('accepts another issuer signed by the configured key, warning once per issuer', () =>
    withIssuer(async (issuer) => {
      const { verifier, logger } = verifierFor(issuer, { devMode: true });
      for (const sub of ['a', 'b']) {
        const verified = await verifier.verify(
          `Bearer ${await issuer.mint({ sub }, { issuer: otherIssuer })}`,
        );
        assert.equal(verified.issuer, otherIssuer);
      }
      const warnings = logger.records.filter(
        (r) => r.level === 'warn' && JSON.stringify(r.obj).includes(otherIssuer),
      );
      assert.equal(warnings.length, 1);
      await verifier.verify(`Bearer ${await issuer.mint()}`);
      assert.equal(
        logger.records.filter((r) => r.level === 'warn').length,
        1,
        'the configured issuer is not warned',
      );
      verifier.close();
    }));

  test('still requires a valid signature', () =>
    withIssuer(async (issuer) => {
      const { verifier } = verifierFor(issuer, { devMode: true });
      await rejectsWith(
        verifier.verify(`Bearer ${await issuer.mintHostile('bad-signature')}`),
        401,
        'invalid_token',
      );
      verifier.close();
    }));

  test('outside dev mode the same token is refused', () =>
    withIssuer(async (issuer) => {
      const { verifier } = verifierFor(issuer, { devMode: false });
      const token = await issuer.mint({}, { issuer: otherIssuer });
      await rejectsWith(verifier.verify(`Bearer ${token}`), 401, 'invalid_token', /issuer/);
      verifier.close();
    }));
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClaimsCache, tokenCacheKey } from '../../src/auth/claims-cache.js';
import { createTokenVerifier, type TokenVerifierOptions } from '../../src/auth/token-verifier.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { recordingLogger, rejectsWith } from './auth-test-kit.js';

let issuer: LocalIssuer;
before(async () => {
  issuer = await startIssuer();
});
after(() => issuer.close());

function verifierFor(overrides: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({
    issuer: issuer.issuerUrl,
    wellKnownEndpoint: '.well-known/openid-configuration',
    algorithms: ['RS256'],
    clockSkewSeconds: 0,
    devMode: false,
    logger: recordingLogger(),
    ...overrides,
  });
}

describe('verified-claims cache in the verifier', () => {
  test('a second verify of the same token is served from the cache, with no issuer request', async () => {
    const verifier = verifierFor();
    const header = `Bearer ${await issuer.mint()}`;
    const first = await verifier.verify(header);
    const requests = issuer.requestCount();
    const second = await verifier.verify(header);
    assert.equal(second, first, 'the very same cached object');
    assert.equal(issuer.requestCount(), requests);
    verifier.close();
  });

  test('a cached token is refused once its exp has passed', async () => {
    let clock = Date.now();
    const verifier = verifierFor({ now: () => clock });
    const header = `Bearer ${await issuer.mint({}, { expiresInSeconds: 60 })}`;
    await verifier.verify(header);
    clock += 30_000;
    assert.ok(await verifier.verify(header));
    clock += 31_000;
    const error = await rejectsWith(verifier.verify(header), 401, 'invalid_token', /expired/);
    assert.match(error.detail ?? '', /cached/, 'refused by the cache re-check, not by a fresh verification');
    await rejectsWith(verifier.verify(header), 401, 'invalid_token', /expired/);
    verifier.close();
  });

  test('the cache is bounded by cacheMax', async () => {
    const verifier = verifierFor({ cacheMax: 2 });
    const headers = await Promise.all(
      [1, 2, 3].map(async (n) => `Bearer ${await issuer.mint({ sub: `s${n}` })}`),
    );
    const firstResults = [];
    for (const header of headers) firstResults.push(await verifier.verify(header));
    assert.equal(await verifier.verify(headers[2]), firstResults[2], 'recent entry still cached');
    assert.notEqual(
      await verifier.verify(headers[0]),
      firstResults[0],
      'oldest entry was evicted and re-verified',
    );
    verifier.close();
  });
});

describe('ClaimsCache', () => {
  const token = { issuer: 'iss', subject: 's', expiresAt: 2_000, claims: {} };

  test('keys are the sha256 hex of the token, not the token', () => {
    const key = tokenCacheKey('secret.token.value');
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.notEqual(tokenCacheKey('secret.token.valuf'), key);
  });

  test('does not store a token that is already expired', () => {
    const cache = new ClaimsCache();
    cache.set('k', token, 2_000_000);
    assert.equal(cache.get('k'), undefined);
    cache.set('k', token, 1_999_000);
    assert.equal(cache.get('k'), token);
    cache.delete('k');
    assert.equal(cache.size, 0);
  });
});

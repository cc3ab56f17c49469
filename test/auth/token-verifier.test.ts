import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTokenVerifier, type TokenVerifierOptions } from '../../src/auth/token-verifier.js';
import { type HostileKind, type LocalIssuer, startIssuer } from '../support/issuer.js';
import { recordingLogger, rejectsWith } from './auth-test-kit.js';

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384'];

let issuer: LocalIssuer;
before(async () => {
  issuer = await startIssuer();
});
after(() => issuer.close());

function verifierFor(overrides: Partial<TokenVerifierOptions> = {}) {
  const logger = recordingLogger();
  const verifier = createTokenVerifier({
    issuer: issuer.issuerUrl,
    wellKnownEndpoint: '.well-known/openid-configuration',
    algorithms: ASYMMETRIC,
    clockSkewSeconds: 5,
    devMode: false,
    logger,
    ...overrides,
  });
  return { verifier, logger };
}

describe('a valid token', () => {
  test('is accepted with its claims', async () => {
    const { verifier } = verifierFor();
    const token = await issuer.mint({ sub: 'user-1', realm_access: { roles: ['nurse'] } });
    const verified = await verifier.verify(`Bearer ${token}`);
    assert.equal(verified.issuer, issuer.issuerUrl);
    assert.equal(verified.subject, 'user-1');
    assert.deepEqual(verified.claims.realm_access, { roles: ['nurse'] });
    assert.ok(verified.expiresAt > Date.now() / 1000 + 200);
    assert.ok(Object.isFrozen(verified.claims.realm_access), 'shared cached claims must be immutable');
    verifier.close();
  });

  test('is accepted with a lower-case scheme', async () => {
    const { verifier } = verifierFor();
    const verified = await verifier.verify(`bearer ${await issuer.mint({ sub: 'lower' })}`);
    assert.equal(verified.subject, 'lower');
    verifier.close();
  });

  test('is accepted when one of the configured audiences matches', async () => {
    const { verifier } = verifierFor({ audience: ['fhir-gateway', 'other'] });
    const token = await issuer.mint({}, { audience: ['account', 'fhir-gateway'] });
    assert.equal((await verifier.verify(`Bearer ${token}`)).issuer, issuer.issuerUrl);
    verifier.close();
  });

  test('expired by less than the clock skew is still accepted, and refused without skew', async () => {
    const token = await issuer.mint({}, { expiresInSeconds: -10 });
    const lenient = verifierFor({ clockSkewSeconds: 30 }).verifier;
    assert.ok(await lenient.verify(`Bearer ${token}`));
    const strict = verifierFor({ clockSkewSeconds: 0 }).verifier;
    await rejectsWith(strict.verify(`Bearer ${token}`), 401, 'invalid_token', /expired/);
    lenient.close();
    strict.close();
  });
});

describe('a refused token answers 401 invalid_token with a Bearer challenge', () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const cases: { name: string; token: () => Promise<string>; message: RegExp; audience?: string[] }[] = [
    { name: 'malformed', token: () => issuer.mintHostile('malformed'), message: /malformed/ },
    { name: 'not a JWT at all', token: async () => 'opaque-token-value', message: /malformed/ },
    {
      name: 'expired',
      token: () => issuer.mint({}, { expiresInSeconds: -60 }),
      message: /expired/,
    },
    {
      name: 'not yet valid (future nbf)',
      token: () => issuer.mint({}, { notBefore: nowSeconds() + 600 }),
      message: /not yet valid/,
    },
    {
      name: 'from another issuer',
      token: () => issuer.mint({}, { issuer: 'http://127.0.0.1:1/realms/evil' }),
      message: /issuer is not trusted/,
    },
    {
      name: 'wrong audience',
      token: () => issuer.mint({}, { audience: 'account' }),
      message: /audience/,
      audience: ['fhir-gateway'],
    },
    {
      name: 'no audience when one is configured',
      token: () => issuer.mint(),
      message: /aud claim/,
      audience: ['fhir-gateway'],
    },
    { name: 'without exp', token: () => issuer.mint({}, { omitExp: true }), message: /exp claim/ },
    ...(
      [
        ['bad-signature', /signature is invalid/],
        ['alg-none', /algorithm is not allowed/],
        ['hs256-with-public-key', /algorithm is not allowed/],
        ['unknown-kid', /signing key is not known/],
        ['tampered-payload', /signature is invalid/],
      ] as [HostileKind, RegExp][]
    ).map(([kind, message]) => ({ name: kind, token: () => issuer.mintHostile(kind), message })),
  ];

  for (const { name, token: makeToken, message, audience } of cases) {
    test(name, async () => {
      const { verifier, logger } = verifierFor(audience === undefined ? {} : { audience });
      const token = await makeToken();
      const error = await rejectsWith(verifier.verify(`Bearer ${token}`), 401, 'invalid_token', message);
      assert.match(
        error.headers['www-authenticate'] ?? '',
        /^Bearer error="invalid_token", error_description="[^"]+"$/,
      );
      assert.equal(error.issueType, 'login');
      assert.ok(
        !error.message.includes(token) && !(error.detail ?? '').includes(token),
        'token leaked in error',
      );
      assert.ok(!JSON.stringify(logger.records).includes(token), 'token leaked in logs');
      verifier.close();
    });
  }

  test('HS256 stays refused even when the caller lists HS256', async () => {
    const { verifier } = verifierFor({ algorithms: ['RS256', 'HS256', 'none'] });
    const forged = await issuer.mintHostile('hs256-with-public-key');
    await rejectsWith(verifier.verify(`Bearer ${forged}`), 401, 'invalid_token', /algorithm/);
    const unsigned = await issuer.mintHostile('alg-none');
    await rejectsWith(verifier.verify(`Bearer ${unsigned}`), 401, 'invalid_token', /algorithm/);
    verifier.close();
  });

  test('an algorithm list with nothing asymmetric is a configuration error', () => {
    assert.throws(() => verifierFor({ algorithms: ['HS256', 'none'] }), /asymmetric/);
  });

  test('an unknown kid does not refetch the JWKS during the cooldown', async () => {
    const { verifier } = verifierFor();
    await verifier.verify(`Bearer ${await issuer.mint()}`);
    const fetched = issuer.requestCount('/certs');
    for (let i = 0; i < 3; i++) {
      await rejectsWith(
        verifier.verify(`Bearer ${await issuer.mintHostile('unknown-kid')}`),
        401,
        'invalid_token',
      );
    }
    assert.equal(issuer.requestCount('/certs'), fetched);
    verifier.close();
  });
});

describe('the Authorization header', () => {
  test('missing or empty answers 401 missing_token with a bare realm challenge', async () => {
    const { verifier } = verifierFor();
    for (const header of [undefined, '', '   ']) {
      const error = await rejectsWith(verifier.verify(header), 401, 'missing_token');
      assert.equal(error.headers['www-authenticate'], 'Bearer realm="fhir-gateway"');
    }
    verifier.close();
  });

  test('with a scheme other than exactly "Bearer <token>" answers 401 invalid_token', async () => {
    const { verifier } = verifierFor();
    const token = await issuer.mint();
    for (const header of [
      `BearerTTT ${token}`,
      `Bearer${token}`,
      `Bearer  ${token}`,
      `Bearer ${token} extra`,
      `Basic ${token}`,
      token,
      'Bearer',
      'Bearer x"y',
    ]) {
      const error = await rejectsWith(verifier.verify(header), 401, 'invalid_token');
      assert.match(error.headers['www-authenticate'] ?? '', /^Bearer error="invalid_token"/);
    }
    verifier.close();
  });
});

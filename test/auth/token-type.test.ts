import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTokenVerifier, type TokenVerifierOptions } from '../../src/auth/token-verifier.js';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/config/config-error.js';
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
    clockSkewSeconds: 5,
    devMode: false,
    logger: recordingLogger(),
    ...overrides,
  });
}

describe('access tokens are accepted', () => {
  const cases: { name: string; claims: Record<string, unknown>; headerType?: string | null }[] = [
    { name: 'Keycloak access token (claim Bearer, header JWT)', claims: {} },
    { name: 'claim in another case', claims: { typ: 'bearer' } },
    { name: 'no typ anywhere', claims: { typ: undefined }, headerType: null },
    { name: 'RFC 9068 header at+jwt', claims: { typ: undefined }, headerType: 'at+jwt' },
    { name: 'header application/at+jwt', claims: { typ: undefined }, headerType: 'application/at+jwt' },
    { name: 'header AT+JWT with claim Bearer', claims: {}, headerType: 'AT+JWT' },
  ];
  for (const { name, claims, headerType } of cases) {
    test(name, async () => {
      const verifier = verifierFor();
      const token = await issuer.mint(claims, headerType === undefined ? {} : { headerType });
      assert.equal((await verifier.verify(`Bearer ${token}`)).issuer, issuer.issuerUrl);
      verifier.close();
    });
  }
});

describe('other tokens are refused with 401 invalid_token and a Bearer challenge', () => {
  const cases: { name: string; claims: Record<string, unknown>; headerType?: string }[] = [
    { name: 'Keycloak ID token', claims: { typ: 'ID', aud: 'fhir-web' } },
    { name: 'Keycloak refresh token', claims: { typ: 'Refresh' } },
    { name: 'Keycloak offline token', claims: { typ: 'Offline' } },
    { name: 'Keycloak logout token', claims: { typ: 'Logout' } },
    { name: 'ID token in lower case', claims: { typ: 'id' } },
    { name: 'a non-string claim', claims: { typ: 1 } },
    { name: 'an empty claim', claims: { typ: '' } },
    { name: 'header logout+jwt', claims: { typ: undefined }, headerType: 'logout+jwt' },
    { name: 'header secevent+jwt with claim Bearer', claims: {}, headerType: 'secevent+jwt' },
    { name: 'header dpop+jwt', claims: {}, headerType: 'dpop+jwt' },
  ];
  for (const { name, claims, headerType } of cases) {
    test(name, async () => {
      const verifier = verifierFor();
      const token = await issuer.mint(claims, headerType === undefined ? {} : { headerType });
      const error = await rejectsWith(
        verifier.verify(`Bearer ${token}`),
        401,
        'invalid_token',
        /not an access token/,
      );
      assert.match(error.headers['www-authenticate'] ?? '', /^Bearer error="invalid_token"/);
      // Refused tokens are not cached: the second attempt is refused again.
      await rejectsWith(verifier.verify(`Bearer ${token}`), 401, 'invalid_token');
      verifier.close();
    });
  }
});

describe('TOKEN_ACCEPTED_TYPES', () => {
  test('a narrower list refuses what the default accepts', async () => {
    const verifier = verifierFor({ acceptedTypes: ['at+jwt'] });
    const keycloak = await issuer.mint({});
    await rejectsWith(verifier.verify(`Bearer ${keycloak}`), 401, 'invalid_token', /not an access token/);
    const rfc9068 = await issuer.mint({ typ: undefined }, { headerType: 'application/at+jwt' });
    assert.ok(await verifier.verify(`Bearer ${rfc9068}`));
    verifier.close();
  });

  test('a wider list can admit a type the default refuses', async () => {
    const verifier = verifierFor({ acceptedTypes: ['Bearer', 'JWT', 'ID'] });
    assert.ok(await verifier.verify(`Bearer ${await issuer.mint({ typ: 'ID' })}`));
    verifier.close();
  });

  test('is read from the environment, default Bearer,JWT,at+jwt; an empty item is refused', () => {
    const minimal = { PROXY_TO: 'http://h/fhir', TOKEN_ISSUER: 'http://i/realms/r', ACCESS_CHECKER: 'x' };
    assert.deepEqual(loadConfig(minimal).tokenAcceptedTypes, ['Bearer', 'JWT', 'at+jwt']);
    assert.deepEqual(loadConfig({ ...minimal, TOKEN_ACCEPTED_TYPES: 'at+jwt, Bearer' }).tokenAcceptedTypes, [
      'at+jwt',
      'Bearer',
    ]);
    assert.throws(
      () => loadConfig({ ...minimal, TOKEN_ACCEPTED_TYPES: 'Bearer,,JWT' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, 'TOKEN_ACCEPTED_TYPES');
        return true;
      },
    );
  });
});

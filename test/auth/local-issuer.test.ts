/** The local test issuer itself: its Keycloak-like HTTP surface and the tokens it mints. */

import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTokenVerifier } from '../../src/auth/token-verifier.js';
import { type LocalIssuer, startIssuer } from '../support/issuer.js';
import { recordingLogger } from './auth-test-kit.js';

let issuer: LocalIssuer;
before(async () => {
  issuer = await startIssuer({
    users: { alice: { realm_access: { roles: ['nurse'] }, fhir_user: 'Practitioner/1' } },
  });
});
after(() => issuer.close());

const requestToken = (form: Record<string, string>) =>
  fetch(`${issuer.issuerUrl}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });

describe('token endpoint (password grant)', () => {
  test('issues a Keycloak-shaped access token that the gateway verifier accepts', async () => {
    const response = await requestToken({
      grant_type: 'password',
      username: 'alice',
      password: 'anything',
      client_id: 'opensrp-app',
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 300);
    assert.equal(typeof body.scope, 'string');
    const token = body.access_token as string;
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'RS256', typ: 'JWT', kid: issuer.currentKid });
    const claims = decodeJwt(token);
    assert.equal(claims.azp, 'opensrp-app');
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.typ, 'Bearer');
    for (const claim of ['iss', 'sub', 'iat', 'exp', 'jti', 'scope'])
      assert.ok(claims[claim] !== undefined, claim);

    const verifier = createTokenVerifier({
      issuer: issuer.issuerUrl,
      wellKnownEndpoint: '.well-known/openid-configuration',
      algorithms: ['RS256'],
      clockSkewSeconds: 0,
      devMode: false,
      logger: recordingLogger(),
    });
    const verified = await verifier.verify(`Bearer ${token}`);
    assert.deepEqual(verified.claims.realm_access, { roles: ['nurse'] });
    assert.equal(verified.claims.fhir_user, 'Practitioner/1');
    verifier.close();

    const again = (await (
      await requestToken({ grant_type: 'password', username: 'alice', password: 'x' })
    ).json()) as {
      access_token: string;
    };
    assert.equal(decodeJwt(again.access_token).sub, claims.sub, 'a user keeps the same subject');
  });

  test('refuses an unknown user with 401 JSON', async () => {
    const response = await requestToken({ grant_type: 'password', username: 'mallory', password: 'x' });
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), {
      error: 'invalid_grant',
      error_description: 'Invalid user credentials',
    });
  });

  test('refuses other grant types with 400', async () => {
    const response = await requestToken({ grant_type: 'client_credentials', client_id: 'c' });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'unsupported_grant_type');
  });
});

describe('realm, discovery and JWKS documents', () => {
  test('the realm document carries the current key as base64 SPKI without PEM armour', async () => {
    const realm = (await (await fetch(issuer.issuerUrl)).json()) as Record<string, string>;
    assert.equal(realm.realm, 'test');
    assert.match(realm.public_key ?? '', /^[A-Za-z0-9+/]+=*$/);
    const fromRealm = createPublicKey({
      key: Buffer.from(realm.public_key ?? '', 'base64'),
      format: 'der',
      type: 'spki',
    });
    assert.ok(fromRealm.equals(createPublicKey(issuer.publicKeyPem)));
    assert.equal(realm['token-service'], `${issuer.issuerUrl}/protocol/openid-connect`);
  });

  test('discovery points at the certs endpoint, which serves the signing kid', async () => {
    const discovery = (await (
      await fetch(`${issuer.issuerUrl}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    assert.equal(discovery.issuer, issuer.issuerUrl);
    assert.equal(discovery.jwks_uri, `${issuer.issuerUrl}/protocol/openid-connect/certs`);
    const jwks = (await (await fetch(discovery.jwks_uri as string)).json()) as {
      keys: Record<string, string>[];
    };
    assert.deepEqual(
      jwks.keys.map((k) => [k.kid, k.alg, k.use, k.kty]),
      [[issuer.currentKid, 'RS256', 'sig', 'RSA']],
    );
    assert.ok(
      jwks.keys.every((k) => k.d === undefined),
      'no private key material',
    );
  });

  test('modes: public-key-only hides jwks_uri; down answers 503 and is counted', async () => {
    const path = '/.well-known/openid-configuration';
    try {
      issuer.setMode('keycloak-public-key-only');
      const discovery = (await (await fetch(`${issuer.issuerUrl}${path}`)).json()) as Record<string, unknown>;
      assert.equal(discovery.jwks_uri, undefined);
      assert.equal(typeof discovery.token_endpoint, 'string');
      issuer.setMode('down');
      const before = issuer.requestCount('openid-configuration');
      const response = await fetch(`${issuer.issuerUrl}${path}`);
      assert.equal(response.status, 503);
      await response.body?.cancel();
      assert.equal(issuer.requestCount('openid-configuration'), before + 1);
    } finally {
      issuer.setMode('jwks');
    }
  });
});

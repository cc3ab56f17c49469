import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, send } from '../support/http.js';
import { startStack, type Stack } from '../support/stack.js';

describe('hostile tokens get 401 and never reach the backend', () => {
  let stack: Stack;

  before(async () => {
    // PROD mode: the issuer is checked. The list checker is not needed: a tiny granting checker stands in.
    stack = await startStack({
      env: {
        RUN_MODE: 'PROD',
        ACCESS_CHECKER: 'grant-all',
        TOKEN_AUDIENCE: 'fhir-gateway',
        TOKEN_JWKS_COOLDOWN_SECONDS: '0',
      },
      extraCheckers: [
        { name: 'grant-all', create: async () => ({ checkAccess: async () => ({ canAccess: true }) }) },
      ],
    });
    await stack.fhir.create({ resourceType: 'Patient', id: 'p1' });
  });
  after(() => stack.close());

  async function expect401(headers: Record<string, string>) {
    stack.fhir.clearRequests();
    const res = await send(stack.gatewayUrl, { path: '/fhir/Patient/p1', headers });
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    assert.equal(res.json().resourceType, 'OperationOutcome');
    assert.equal(stack.fhir.requests.length, 0, 'nothing reached the backend');
  }

  test('a valid token with the configured audience passes', async () => {
    const token = await stack.issuer.mint({ aud: 'fhir-gateway' });
    const res = await send(stack.gatewayUrl, { path: '/fhir/Patient/p1', headers: bearer(token) });
    assert.equal(res.status, 200);
  });

  test('no token', () => expect401({}));
  test('not a Bearer scheme', () => expect401({ authorization: 'Basic dXNlcjpwYXNz' }));
  test('malformed', async () => expect401(bearer(await stack.issuer.mintHostile('malformed'))));
  test('expired', async () =>
    expect401(bearer(await stack.issuer.mint({ aud: 'fhir-gateway' }, { expiresInSeconds: -3600 }))));
  test('not yet valid (future nbf)', async () =>
    expect401(
      bearer(
        await stack.issuer.mint({ aud: 'fhir-gateway' }, { notBefore: Math.floor(Date.now() / 1000) + 3600 }),
      ),
    ));
  test('wrong issuer', async () =>
    expect401(
      bearer(await stack.issuer.mint({ aud: 'fhir-gateway' }, { issuer: 'http://evil.example/realms/test' })),
    ));
  test('bad signature', async () => expect401(bearer(await stack.issuer.mintHostile('bad-signature'))));
  test('alg none', async () => expect401(bearer(await stack.issuer.mintHostile('alg-none'))));
  test('HS256 signed with the RSA public key', async () =>
    expect401(bearer(await stack.issuer.mintHostile('hs256-with-public-key'))));
  test('unknown kid', async () => expect401(bearer(await stack.issuer.mintHostile('unknown-kid'))));
  test('tampered payload', async () => expect401(bearer(await stack.issuer.mintHostile('tampered-payload'))));
  test('wrong audience', async () => expect401(bearer(await stack.issuer.mint({ aud: 'another-service' }))));
  test('no exp claim', async () =>
    expect401(bearer(await stack.issuer.mint({ aud: 'fhir-gateway' }, { omitExp: true }))));

  test('a rotated key (new kid) is accepted without restart', async () => {
    const before = await stack.issuer.mint({ aud: 'fhir-gateway' });
    assert.equal(
      (await send(stack.gatewayUrl, { path: '/fhir/Patient/p1', headers: bearer(before) })).status,
      200,
    );
    const kid = await stack.issuer.rotateKey();
    const after = await stack.issuer.mint({ aud: 'fhir-gateway' });
    assert.notEqual(kid, undefined);
    const res = await send(stack.gatewayUrl, { path: '/fhir/Patient/p1', headers: bearer(after) });
    assert.equal(res.status, 200);
  });
});

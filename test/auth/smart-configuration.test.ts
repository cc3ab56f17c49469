import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSmartConfiguration, DEFAULT_SMART_CAPABILITIES } from '../../src/auth/smart-configuration.js';
import { startIssuer } from '../support/issuer.js';

test('built from a real Keycloak-like discovery: SMART fields added, S256 only, nothing unknown echoed', async () => {
  const issuer = await startIssuer();
  try {
    const response = await fetch(`${issuer.issuerUrl}/.well-known/openid-configuration`);
    const discovery = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(discovery.code_challenge_methods_supported, ['plain', 'S256']);

    const smart = buildSmartConfiguration(discovery);
    assert.deepEqual(smart.capabilities, DEFAULT_SMART_CAPABILITIES);
    assert.deepEqual(smart.code_challenge_methods_supported, ['S256']);
    for (const field of [
      'issuer',
      'authorization_endpoint',
      'token_endpoint',
      'jwks_uri',
      'introspection_endpoint',
    ]) {
      assert.equal(smart[field], discovery[field], field);
    }
    assert.deepEqual(smart.grant_types_supported, discovery.grant_types_supported);
    assert.deepEqual(smart.scopes_supported, discovery.scopes_supported);
    assert.deepEqual(
      Object.keys(smart).sort(),
      [
        'authorization_endpoint',
        'capabilities',
        'code_challenge_methods_supported',
        'grant_types_supported',
        'introspection_endpoint',
        'issuer',
        'jwks_uri',
        'response_types_supported',
        'revocation_endpoint',
        'scopes_supported',
        'token_endpoint',
        'token_endpoint_auth_methods_supported',
      ],
      'no userinfo/end_session/frontchannel or other unknown discovery fields',
    );
  } finally {
    await issuer.close();
  }
});

test('grant types default to authorization_code; malformed fields are dropped', () => {
  const smart = buildSmartConfiguration({
    token_endpoint: 'https://idp.example.org/token',
    authorization_endpoint: 42,
    response_types_supported: 'code',
    scopes_supported: ['openid', 7, 'launch'],
    capabilities: ['launch-ehr'],
  });
  assert.deepEqual(smart, {
    token_endpoint: 'https://idp.example.org/token',
    scopes_supported: ['openid', 'launch'],
    grant_types_supported: ['authorization_code'],
    capabilities: [...DEFAULT_SMART_CAPABILITIES],
    code_challenge_methods_supported: ['S256'],
  });
});

test('capabilities and scopes come from options when given', () => {
  const smart = buildSmartConfiguration(
    {
      token_endpoint: 'https://idp.example.org/token',
      scopes_supported: ['openid'],
      management_endpoint: 'https://m',
    },
    { capabilities: ['launch-standalone', 'permission-v2'], scopesSupported: ['patient/*.rs'] },
  );
  assert.deepEqual(smart.capabilities, ['launch-standalone', 'permission-v2']);
  assert.deepEqual(smart.scopes_supported, ['patient/*.rs']);
  assert.equal(smart.management_endpoint, 'https://m');
});

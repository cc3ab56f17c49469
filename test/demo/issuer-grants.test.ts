/**
 * The demo's token issuer advertises only what its token endpoint serves (issue 9: discovery named
 * `client_credentials`, which the endpoint refused with unsupported_grant_type).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startIssuer } from '../support/issuer.js';

test('every grant type in discovery is served by the token endpoint', async () => {
  const issuer = await startIssuer({ users: { worker: {} } });
  try {
    const discovery = (await (
      await fetch(`${issuer.issuerUrl}/.well-known/openid-configuration`)
    ).json()) as {
      grant_types_supported: string[];
      token_endpoint: string;
    };
    assert.ok(discovery.grant_types_supported.length > 0);
    for (const grant of discovery.grant_types_supported) {
      const response = await fetch(discovery.token_endpoint, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: grant,
          username: 'worker',
          password: 'demo',
          client_id: 'c',
        }),
      });
      const body = (await response.json()) as { error?: string; access_token?: string };
      assert.notEqual(body.error, 'unsupported_grant_type', `${grant} is advertised`);
      assert.equal(response.status, 200, `${grant}: ${JSON.stringify(body)}`);
      assert.ok(body.access_token);
    }
  } finally {
    await issuer.close();
  }
});

/**
 * Red team of the answer rewriting (src/server/url-rewrite.ts, 3078bb4): PROXY_TO is matched in
 * answers byte for byte as written in the environment, while requests go to the URL it parses to.
 * A PROXY_TO spelled otherwise than the FHIR server writes its own base (an upper-case scheme or
 * host, a default port written out, a port or address with leading zeros) is accepted at start and
 * works, but no answer is rewritten: the backend's base URL reaches every client, in every link,
 * fullUrl and Location. The safe answer: the spelling is normalised (WHATWG URL) before it is
 * matched, or refused at start (exit 2).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../../src/config/config-error.js';
import { type LocalFhirServer, startFhirServer } from '../../support/fhir-server.js';
import { bearer, send } from '../../support/http.js';
import { type Stack, startStack } from '../../support/stack.js';

describe('PROXY_TO spellings of the same backend', () => {
  let fhir: LocalFhirServer;
  before(async () => {
    fhir = await startFhirServer({ seed: [{ resourceType: 'Patient', id: 'p1' }] });
  });
  after(() => fhir.close());

  const spellings: [string, (port: number) => string][] = [
    ['an upper-case scheme', (port) => `HTTP://127.0.0.1:${port}/fhir`],
    ['a port with a leading zero', (port) => `http://127.0.0.1:0${port}/fhir`],
    ['an address with zero-padded octets', (port) => `http://127.000.000.001:${port}/fhir`],
  ];
  for (const [what, spelling] of spellings) {
    test(`${what}: refused at start, or the backend base is rewritten`, async () => {
      let stack: Stack;
      try {
        stack = await startStack({
          env: { PROXY_TO: spelling(fhir.port), ACCESS_CHECKER: 'permissive', RUN_MODE: 'DEV' },
          fhir,
        });
      } catch (error) {
        assert.ok(error instanceof ConfigError, String(error));
        return;
      }
      try {
        const token = await stack.issuer.mint({});
        const response = await send(stack.gatewayUrl, {
          path: '/fhir/Patient?_count=1',
          headers: bearer(token),
        });
        assert.equal(response.status, 200, response.text);
        assert.ok(
          !response.text.includes(fhir.baseUrl),
          `the backend base URL reached the client: ${response.text.slice(0, 300)}`,
        );
      } finally {
        await stack.close();
      }
    });
  }
});

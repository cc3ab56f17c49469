import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { portFromEnv, startOnPort } from '../../src/demo/ports.js';

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

describe('demo ports', () => {
  test('the first variable that is set wins, blank counts as unset, 0 is kept', () => {
    assert.equal(portFromEnv({ A: ' ', B: '9001' }, ['A', 'B'], 8080), 9001);
    assert.equal(portFromEnv({ A: '0', B: '9001' }, ['A', 'B'], 8080), 0);
    assert.equal(portFromEnv({}, ['A'], 8080), 8080);
  });

  test('a value that is not a port names its variable', () => {
    assert.throws(() => portFromEnv({ DEMO_FHIR_PORT: '80a' }, ['DEMO_FHIR_PORT'], 1), /DEMO_FHIR_PORT/);
    assert.throws(() => portFromEnv({ DEMO_FHIR_PORT: '70000' }, ['DEMO_FHIR_PORT'], 1), /DEMO_FHIR_PORT/);
  });

  test('a busy port falls back to a free one and says which port was busy', async () => {
    const squatter = await listenOn(0);
    const busy: number[] = [];
    const server = await startOnPort(portOf(squatter), listenOn, (port) => busy.push(port));
    try {
      assert.deepEqual(busy, [portOf(squatter)]);
      assert.notEqual(portOf(server), portOf(squatter));
    } finally {
      await close(server);
      await close(squatter);
    }
  });

  test('errors other than a busy port are not retried', async () => {
    let attempts = 0;
    const failing = async (): Promise<never> => {
      attempts++;
      throw new Error('seed failed');
    };
    await assert.rejects(
      startOnPort(8099, failing, () => undefined),
      /seed failed/,
    );
    assert.equal(attempts, 1);
  });
});

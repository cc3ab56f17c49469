import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { readConfigOrExit } from '../../src/config/load-config.js';

const validEnv = {
  PROXY_TO: 'http://hapi:8080/fhir',
  TOKEN_ISSUER: 'https://keycloak/realms/fhir',
  ACCESS_CHECKER: 'list',
};

class Exited extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

const capture = () => {
  const lines: string[] = [];
  return {
    lines,
    io: {
      writeError: (line: string) => void lines.push(line),
      exit: (status: number): never => {
        throw new Exited(status);
      },
    },
  };
};

describe('readConfigOrExit', () => {
  test('returns the config when it is valid, printing nothing', () => {
    const { lines, io } = capture();
    assert.equal(readConfigOrExit(validEnv, io).proxyTo, 'http://hapi:8080/fhir');
    assert.deepEqual(lines, []);
  });

  test('prints one line naming the variable and exits with status 2', () => {
    const { lines, io } = capture();
    assert.throws(() => readConfigOrExit({ ...validEnv, PROXY_PORT: 'abc' }, io), { status: 2 });
    assert.deepEqual(lines, [
      'fhir-gateway: configuration error: PROXY_PORT: must be a whole number from 0 to 65535, got "abc"\n',
    ]);
  });

  test('in a real process: stderr and exit status 2', () => {
    const module = new URL('../../src/config/load-config.ts', import.meta.url).href;
    const script = `import { readConfigOrExit } from ${JSON.stringify(module)};
readConfigOrExit(process.env);
console.log('still running');`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { PATH: process.env['PATH'], ...validEnv, AUDIT_EVENT_ACTIONS_CONFIG: 'C,R' },
      encoding: 'utf8',
    });
    assert.equal(child.status, 2);
    assert.equal(child.stdout, '');
    assert.equal(
      child.stderr,
      'fhir-gateway: configuration error: AUDIT_EVENT_ACTIONS_CONFIG: has ","; use only the letters C, R, U, D, E written together (e.g. CRUDE), without commas\n',
    );
  });
});

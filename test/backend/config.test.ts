/** BACKEND_TYPE settings at start: what each type needs, the https rule, `_FILE` secrets, secret flags. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { configWarnings, type Environment, loadConfig } from '../../src/config/load-config.js';
import { CONFIG_VARIABLES } from '../../src/config/variables.js';

const base = {
  PROXY_TO: 'https://fhir.example.org/fhir',
  TOKEN_ISSUER: 'https://kc/realms/r',
  ACCESS_CHECKER: 'list',
};
const load = (extra: Environment) => loadConfig({ ...base, ...extra });

function refused(extra: Environment, variable: string, reason: RegExp): ConfigError {
  let caught: unknown;
  try {
    load(extra);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${variable}, got ${String(caught)}`);
  assert.equal(caught.variable, variable);
  assert.match(caught.reason, reason);
  return caught;
}

const dir = mkdtempSync(join(tmpdir(), 'backend-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const oauth2 = { BACKEND_TYPE: 'OAUTH2', BACKEND_CLIENT_ID: 'gw', BACKEND_CLIENT_SECRET: 's3cret-value' };

describe('OAUTH2 settings', () => {
  test('a token URL or an issuer, a client id, a secret or a private key', () => {
    const config = load({ ...oauth2, BACKEND_TOKEN_URL: 'https://idp/token', BACKEND_SCOPE: 'a, b c' });
    assert.deepEqual(config.backendCredentials, {
      type: 'OAUTH2',
      tokenUrl: 'https://idp/token',
      clientId: 'gw',
      clientSecret: 's3cret-value',
      scope: 'a b c',
      allowHttp: false,
    });
    refused(oauth2, 'BACKEND_TOKEN_URL', /or BACKEND_ISSUER is required/);
    refused(
      { ...oauth2, BACKEND_TOKEN_URL: 'https://a/t', BACKEND_ISSUER: 'https://a' },
      'BACKEND_TOKEN_URL',
      /both set/,
    );
    refused(
      { ...oauth2, BACKEND_CLIENT_ID: '', BACKEND_ISSUER: 'https://a' },
      'BACKEND_CLIENT_ID',
      /required/,
    );
    refused(
      { ...oauth2, BACKEND_ISSUER: 'https://a', BACKEND_CLIENT_PRIVATE_KEY: 'x' },
      'BACKEND_CLIENT_SECRET',
      /both set/,
    );
  });

  test('plain http only to a loopback host, or with RUN_MODE=DEV', () => {
    for (const url of ['http://127.0.0.1:9/token', 'http://localhost/token', 'http://[::1]:8/t']) {
      assert.equal(load({ ...oauth2, BACKEND_TOKEN_URL: url }).backendCredentials.type, 'OAUTH2', url);
    }
    refused(
      { ...oauth2, BACKEND_TOKEN_URL: 'http://keycloak:8080/token' },
      'BACKEND_TOKEN_URL',
      /must be https/,
    );
    refused(
      { ...oauth2, BACKEND_ISSUER: 'http://keycloak.example.org/realms/b' },
      'BACKEND_ISSUER',
      /must be https/,
    );
    const dev = load({ ...oauth2, BACKEND_TOKEN_URL: 'http://keycloak:8080/token', RUN_MODE: 'DEV' });
    assert.equal((dev.backendCredentials as { allowHttp: boolean }).allowHttp, true);
  });

  test('a private key must be a PEM key it can sign with; the error never quotes it', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    const keyed = { BACKEND_TYPE: 'OAUTH2', BACKEND_CLIENT_ID: 'gw', BACKEND_TOKEN_URL: 'https://idp/token' };
    const config = load({ ...keyed, BACKEND_CLIENT_PRIVATE_KEY_FILE: file('key.pem', pem) });
    assert.equal((config.backendCredentials as { privateKey: string }).privateKey, pem.trim());
    const error = refused(
      { ...keyed, BACKEND_CLIENT_PRIVATE_KEY: 'not-a-key-SECRETISH' },
      'BACKEND_CLIENT_PRIVATE_KEY',
      /not a PEM private key/,
    );
    assert.doesNotMatch(error.message, /SECRETISH/);
    refused(
      { ...oauth2, BACKEND_TOKEN_URL: 'https://idp/t', BACKEND_CLIENT_KEY_ID: 'k' },
      'BACKEND_CLIENT_KEY_ID',
      /only BACKEND_CLIENT_PRIVATE_KEY/,
    );
  });
});

describe('secrets as <NAME>_FILE', () => {
  test('the file content, trimmed; both forms refused; an unreadable or empty file names <NAME>_FILE', () => {
    const basic = { BACKEND_TYPE: 'BASIC', BACKEND_USERNAME: 'gw' };
    const config = load({ ...basic, BACKEND_PASSWORD_FILE: file('pw', '  from-file\n') });
    assert.deepEqual(config.backendCredentials, { type: 'BASIC', username: 'gw', password: 'from-file' });
    refused(
      { ...basic, BACKEND_PASSWORD: 'x', BACKEND_PASSWORD_FILE: file('pw2', 'y') },
      'BACKEND_PASSWORD',
      /both directly and as BACKEND_PASSWORD_FILE/,
    );
    refused(
      { ...basic, BACKEND_PASSWORD_FILE: join(dir, 'missing') },
      'BACKEND_PASSWORD_FILE',
      /cannot read .*ENOENT/,
    );
    refused({ ...basic, BACKEND_PASSWORD_FILE: file('empty', '\n') }, 'BACKEND_PASSWORD_FILE', /is empty/);
    const bearer = load({ BACKEND_TYPE: 'BEARER', BACKEND_BEARER_TOKEN_FILE: file('token', 'abc.def\n') });
    assert.deepEqual(bearer.backendCredentials, { type: 'BEARER', token: 'abc.def' });
    assert.equal(
      load({ PAGING_LINK_KEY_FILE: file('paging', 'k'.repeat(40)) }).pagingLinkKey,
      'k'.repeat(40),
    );
  });

  test('every credential is flagged secret (check-config hides it), and only IDENTITY_HEADER lacks a _FILE form', () => {
    const secret = CONFIG_VARIABLES.filter((v) => v.secret).map((v) => v.name);
    for (const name of [
      'BACKEND_CLIENT_SECRET',
      'BACKEND_CLIENT_PRIVATE_KEY',
      'BACKEND_PASSWORD',
      'BACKEND_BEARER_TOKEN',
      'AZURE_CLIENT_SECRET',
      'AZURE_CLIENT_CERTIFICATE_PASSWORD',
      'IDENTITY_HEADER',
    ]) {
      assert.ok(secret.includes(name), name);
    }
    assert.deepEqual(
      CONFIG_VARIABLES.filter((v) => v.platform).map((v) => v.name),
      ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER'],
    );
  });
});

describe('BASIC, BEARER, HAPI', () => {
  test('what each needs, and a BACKEND_* setting the type does not use is refused', () => {
    refused(
      { BACKEND_TYPE: 'BASIC', BACKEND_USERNAME: 'gw' },
      'BACKEND_PASSWORD',
      /required with BACKEND_TYPE=BASIC/,
    );
    refused(
      { BACKEND_TYPE: 'BASIC', BACKEND_USERNAME: 'a:b', BACKEND_PASSWORD: 'p' },
      'BACKEND_USERNAME',
      /colon/,
    );
    refused({ BACKEND_TYPE: 'BEARER' }, 'BACKEND_BEARER_TOKEN', /required/);
    refused(
      { BACKEND_TYPE: 'BEARER', BACKEND_BEARER_TOKEN: 'a b' },
      'BACKEND_BEARER_TOKEN',
      /printable ASCII/,
    );
    refused({ BACKEND_PASSWORD: 'p' }, 'BACKEND_PASSWORD', /BACKEND_TYPE=HAPI does not use it/);
    refused(
      { BACKEND_TYPE: 'BEARER', BACKEND_BEARER_TOKEN: 't', BACKEND_SCOPE: 's' },
      'BACKEND_SCOPE',
      /BEARER does not use it/,
    );
    assert.deepEqual(load({}).backendCredentials, { type: 'HAPI' });
  });
});

describe('GCP and AZURE settings', () => {
  test('GCP: cloud-platform scope, the project from PROXY_TO, a readable key file, https', () => {
    const store =
      'https://healthcare.googleapis.com/v1/projects/my-proj/locations/l/datasets/d/fhirStores/s/fhir';
    const key = file('sa.json', '{}');
    assert.deepEqual(
      load({ BACKEND_TYPE: 'GCP', PROXY_TO: store, GOOGLE_APPLICATION_CREDENTIALS: key }).backendCredentials,
      {
        type: 'GCP',
        scopes: ['https://www.googleapis.com/auth/cloud-platform'],
        keyFile: key,
        projectId: 'my-proj',
      },
    );
    refused(
      { BACKEND_TYPE: 'GCP', GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'nope.json') },
      'GOOGLE_APPLICATION_CREDENTIALS',
      /cannot read/,
    );
    refused({ BACKEND_TYPE: 'GCP', PROXY_TO: 'http://fhir.example.org/fhir' }, 'PROXY_TO', /must be https/);
  });

  test('AZURE: the scope of the PROXY_TO origin, the ids a client secret needs, an https authority', () => {
    const proxy = { BACKEND_TYPE: 'AZURE', PROXY_TO: 'https://ws-fhir.fhir.azurehealthcareapis.com' };
    assert.deepEqual(load(proxy).backendCredentials, {
      type: 'AZURE',
      scopes: ['https://ws-fhir.fhir.azurehealthcareapis.com/.default'],
    });
    refused({ ...proxy, AZURE_CLIENT_SECRET: 'x' }, 'AZURE_TENANT_ID', /required with a client secret/);
    refused({ ...proxy, AZURE_AUTHORITY_HOST: 'http://login.example.org' }, 'AZURE_AUTHORITY_HOST', /https/);
    const secret = {
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_ID: 'c',
      AZURE_CLIENT_SECRET_FILE: file('az', 'az-secret'),
    };
    assert.equal(
      (load({ ...proxy, ...secret }).backendCredentials as { clientSecret: string }).clientSecret,
      'az-secret',
    );
  });
});

describe('start warnings', () => {
  test('a credential over plain http to a non-loopback FHIR server, and google-auth-library debug logging', () => {
    const bearer = { BACKEND_TYPE: 'BEARER', BACKEND_BEARER_TOKEN: 't' };
    assert.match(
      configWarnings({ ...bearer, PROXY_TO: 'http://hapi:8080/fhir' }).join('\n'),
      /^PROXY_TO: BACKEND_TYPE=BEARER sends its credential .* plain http/,
    );
    assert.deepEqual(configWarnings({ ...bearer, PROXY_TO: 'http://127.0.0.1:8080/fhir' }), []);
    assert.deepEqual(configWarnings({ ...bearer, PROXY_TO: 'https://hapi/fhir' }), []);
    assert.deepEqual(configWarnings({ PROXY_TO: 'http://hapi:8080/fhir' }), []);
    assert.match(
      configWarnings({ BACKEND_TYPE: 'GCP', GOOGLE_SDK_NODE_LOGGING: 'gcp-metadata' }).join('\n'),
      /access tokens/,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { configWarnings, type Environment, isDevMode, loadConfig } from '../../src/config/load-config.js';
import { CONFIG_VARIABLES } from '../../src/config/variables.js';

const minimal = {
  PROXY_TO: 'http://hapi:8080/fhir',
  TOKEN_ISSUER: 'https://keycloak/realms/fhir',
  ACCESS_CHECKER: 'list',
};

const load = (extra: Environment) => loadConfig({ ...minimal, ...extra });

/** Asserts that `extra` on top of a valid environment is refused for `variable`, with a reason matching `reason`. */
function assertRefused(extra: Environment, variable: string, reason: RegExp) {
  assert.throws(
    () => load(extra),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.equal(error.variable, variable);
      assert.match(error.reason, reason);
      assert.equal(error.message, `${variable}: ${error.reason}`);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    },
  );
}

describe('loadConfig defaults', () => {
  test('only the required variables set gives the documented defaults', () => {
    assert.deepEqual(loadConfig(minimal), {
      proxyTo: 'http://hapi:8080/fhir',
      proxyPort: 8080,
      proxyHost: '0.0.0.0',
      backendType: 'HAPI',
      backendCredentials: { type: 'HAPI' },
      tokenIssuer: 'https://keycloak/realms/fhir',
      wellKnownEndpoint: '.well-known/openid-configuration',
      accessCheckers: ['list'],
      allowedQueriesFile: undefined,
      runMode: 'PROD',
      auditEventActions: new Set(),
      tokenAudience: undefined,
      tokenAlgorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384'],
      tokenClockSkewSeconds: 30,
      tokenJwksCooldownSeconds: 30,
      tokenAcceptedTypes: ['Bearer', 'JWT', 'at+jwt'],
      backendConnectTimeoutMs: 5000,
      backendTimeoutMs: 60000,
      bodyLimitBytes: 16777216,
      bundleMaxEntries: 1000,
      maxUpstreamUrlLength: 4096,
      maxHeaderBytes: 65536,
      trustProxy: false,
      corsAllowOrigin: '*',
      logLevel: 'info',
      metricsPort: undefined,
      pagingLinkKey: undefined,
      shutdownGraceMs: 10000,
    });
  });

  test('blank or whitespace-only values count as unset', () => {
    const config = load({ PROXY_PORT: '', LOG_LEVEL: '   ', ALLOWED_QUERIES_FILE: '', TOKEN_AUDIENCE: ' ' });
    assert.equal(config.proxyPort, 8080);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.allowedQueriesFile, undefined);
    assert.equal(config.tokenAudience, undefined);
  });

  test('the required flags of the table are the variables loadConfig cannot do without', () => {
    for (const variable of CONFIG_VARIABLES) {
      const env: Record<string, string | undefined> = { ...minimal, [variable.name]: undefined };
      if (variable.required) assert.throws(() => loadConfig(env), { variable: variable.name }, variable.name);
      else assert.doesNotThrow(() => loadConfig(env), variable.name);
    }
  });
});

describe('loadConfig required variables', () => {
  for (const name of ['PROXY_TO', 'TOKEN_ISSUER', 'ACCESS_CHECKER']) {
    test(`${name} missing`, () => assertRefused({ [name]: undefined }, name, /^is required but not set$/));
    test(`${name} blank`, () => assertRefused({ [name]: '  ' }, name, /^is required but not set$/));
  }
});

describe('loadConfig values', () => {
  test('PROXY_TO: trailing slashes removed; relative, non-http, query and fragment refused', () => {
    assert.equal(load({ PROXY_TO: 'https://hapi/fhir//' }).proxyTo, 'https://hapi/fhir');
    assert.equal(load({ PROXY_TO: ' http://hapi:8080/ ' }).proxyTo, 'http://hapi:8080');
    // As the HTTP client names it in Host and the server in its links.
    assert.equal(load({ PROXY_TO: 'HTTP://Hapi:80/fhir' }).proxyTo, 'http://hapi/fhir');
    assert.equal(load({ PROXY_TO: 'http://127.000.000.001:08080/fhir' }).proxyTo, 'http://127.0.0.1:8080/fhir');
    assertRefused({ PROXY_TO: 'hapi/fhir' }, 'PROXY_TO', /absolute http\(s\) URL/);
    assertRefused({ PROXY_TO: 'ftp://hapi/fhir' }, 'PROXY_TO', /http or https/);
    assertRefused({ PROXY_TO: 'http://hapi/fhir?x=1' }, 'PROXY_TO', /query or fragment/);
    assertRefused({ PROXY_TO: 'http://hapi/fhir#top' }, 'PROXY_TO', /query or fragment/);
  });

  test('TOKEN_ISSUER is kept exactly, trailing slash included', () => {
    assert.equal(load({ TOKEN_ISSUER: 'https://kc/realms/fhir/' }).tokenIssuer, 'https://kc/realms/fhir/');
    assertRefused({ TOKEN_ISSUER: 'keycloak' }, 'TOKEN_ISSUER', /absolute http\(s\) URL/);
  });

  test('BACKEND_TYPE: one of the known types, case-sensitive (credentials: test/backend/config.test.ts)', () => {
    assert.equal(load({ BACKEND_TYPE: 'HAPI' }).backendType, 'HAPI');
    assertRefused({ BACKEND_TYPE: 'hapi' }, 'BACKEND_TYPE', /must be one of HAPI, GCP, AZURE/);
    assertRefused({ BACKEND_TYPE: 'AWS' }, 'BACKEND_TYPE', /got "AWS"/);
  });

  test('ports: whole numbers from 0 to 65535 only', () => {
    assert.equal(load({ PROXY_PORT: '0' }).proxyPort, 0);
    assert.equal(load({ PROXY_PORT: ' 9090 ' }).proxyPort, 9090);
    for (const bad of ['abc', '-1', '1.5', '65536', '1e3', '+80', '0x50', '80 80']) {
      assertRefused({ PROXY_PORT: bad }, 'PROXY_PORT', /whole number from 0 to 65535/);
    }
    assert.equal(load({ METRICS_PORT: '9464' }).metricsPort, 9464);
    assertRefused({ METRICS_PORT: 'x' }, 'METRICS_PORT', /whole number/);
    assertRefused({ METRICS_PORT: '8080' }, 'METRICS_PORT', /must differ from PROXY_PORT/);
  });

  test('numbers: ranges and names of the variable at fault', () => {
    const config = load({
      TOKEN_CLOCK_SKEW_SECONDS: '0',
      BACKEND_CONNECT_TIMEOUT_MS: '250',
      BACKEND_TIMEOUT_MS: '1000',
      BODY_LIMIT_BYTES: '1024',
      MAX_UPSTREAM_URL_LENGTH: '2000',
      SHUTDOWN_GRACE_MS: '0',
    });
    assert.deepEqual(
      [
        config.tokenClockSkewSeconds,
        config.backendConnectTimeoutMs,
        config.backendTimeoutMs,
        config.bodyLimitBytes,
        config.maxUpstreamUrlLength,
        config.shutdownGraceMs,
      ],
      [0, 250, 1000, 1024, 2000, 0],
    );
    assertRefused({ TOKEN_CLOCK_SKEW_SECONDS: '301' }, 'TOKEN_CLOCK_SKEW_SECONDS', /from 0 to 300/);
    assertRefused({ BACKEND_CONNECT_TIMEOUT_MS: '0' }, 'BACKEND_CONNECT_TIMEOUT_MS', /from 1 to/);
    assertRefused({ BACKEND_TIMEOUT_MS: '2147483648' }, 'BACKEND_TIMEOUT_MS', /from 1 to 2147483647/);
    assertRefused({ BODY_LIMIT_BYTES: '16MB' }, 'BODY_LIMIT_BYTES', /whole number/);
    assertRefused({ MAX_UPSTREAM_URL_LENGTH: '-4096' }, 'MAX_UPSTREAM_URL_LENGTH', /whole number/);
    assertRefused({ SHUTDOWN_GRACE_MS: '1.5' }, 'SHUTDOWN_GRACE_MS', /whole number/);
  });

  test('AUDIT_EVENT_ACTIONS_CONFIG: letters written together, trimmed, upper-cased', () => {
    assert.deepEqual(load({ AUDIT_EVENT_ACTIONS_CONFIG: 'CRUDE' }).auditEventActions, new Set('CRUDE'));
    assert.deepEqual(load({ AUDIT_EVENT_ACTIONS_CONFIG: ' re ' }).auditEventActions, new Set(['R', 'E']));
    assert.deepEqual(load({ AUDIT_EVENT_ACTIONS_CONFIG: 'RR' }).auditEventActions, new Set(['R']));
    assert.equal(load({ AUDIT_EVENT_ACTIONS_CONFIG: '' }).auditEventActions.size, 0);
    assertRefused(
      { AUDIT_EVENT_ACTIONS_CONFIG: 'C,R' },
      'AUDIT_EVENT_ACTIONS_CONFIG',
      /has ","; .*without commas/,
    );
    assertRefused({ AUDIT_EVENT_ACTIONS_CONFIG: 'C R' }, 'AUDIT_EVENT_ACTIONS_CONFIG', /has " "/);
    assertRefused({ AUDIT_EVENT_ACTIONS_CONFIG: 'CRUDX' }, 'AUDIT_EVENT_ACTIONS_CONFIG', /has "X"/);
  });

  test('TOKEN_ALGORITHMS: public-key algorithms only, list trimmed', () => {
    assert.deepEqual(load({ TOKEN_ALGORITHMS: ' RS256 , ES256,EdDSA ' }).tokenAlgorithms, [
      'RS256',
      'ES256',
      'EdDSA',
    ]);
    assertRefused(
      { TOKEN_ALGORITHMS: 'RS256,HS256' },
      'TOKEN_ALGORITHMS',
      /must not allow HS256: shared-secret/,
    );
    assertRefused({ TOKEN_ALGORITHMS: 'hs512' }, 'TOKEN_ALGORITHMS', /must not allow hs512/);
    assertRefused({ TOKEN_ALGORITHMS: 'none' }, 'TOKEN_ALGORITHMS', /must not allow "none"/);
    assertRefused({ TOKEN_ALGORITHMS: 'RS256,None' }, 'TOKEN_ALGORITHMS', /must not allow "none"/);
    assertRefused({ TOKEN_ALGORITHMS: 'rs256' }, 'TOKEN_ALGORITHMS', /unknown algorithm "rs256"/);
    assertRefused({ TOKEN_ALGORITHMS: 'RS256,,ES256' }, 'TOKEN_ALGORITHMS', /empty algorithm/);
  });

  test('comma lists are trimmed; empty and repeated names refused', () => {
    assert.deepEqual(load({ ACCESS_CHECKER: ' patient , list ' }).accessCheckers, ['patient', 'list']);
    assert.deepEqual(load({ TOKEN_AUDIENCE: 'fhir-gateway, account' }).tokenAudience, [
      'fhir-gateway',
      'account',
    ]);
    assertRefused({ ACCESS_CHECKER: 'list,' }, 'ACCESS_CHECKER', /empty checker name/);
    assertRefused({ ACCESS_CHECKER: 'list, list' }, 'ACCESS_CHECKER', /names checker name "list" twice/);
    assertRefused({ TOKEN_AUDIENCE: 'a,,b' }, 'TOKEN_AUDIENCE', /empty audience/);
  });

  test('TRUST_PROXY: true/false/1/0', () => {
    for (const [raw, value] of [
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['false', false],
      ['0', false],
    ] as const) {
      assert.equal(load({ TRUST_PROXY: raw }).trustProxy, value, raw);
    }
    assertRefused({ TRUST_PROXY: 'yes' }, 'TRUST_PROXY', /true, false, 1 or 0/);
  });

  test('LOG_LEVEL: pino levels, any case', () => {
    assert.equal(load({ LOG_LEVEL: 'DEBUG' }).logLevel, 'debug');
    assert.equal(load({ LOG_LEVEL: 'silent' }).logLevel, 'silent');
    assertRefused(
      { LOG_LEVEL: 'verbose' },
      'LOG_LEVEL',
      /one of fatal, error, warn, info, debug, trace, silent/,
    );
  });

  test('strings are taken as given', () => {
    const config = load({
      PROXY_HOST: '127.0.0.1',
      WELL_KNOWN_ENDPOINT: 'protocol/openid-connect/certs',
      CORS_ALLOW_ORIGIN: 'https://app.example.org',
      ALLOWED_QUERIES_FILE: 'resources/hapi_page_url_allowed_queries.json',
    });
    assert.equal(config.proxyHost, '127.0.0.1');
    assert.equal(config.wellKnownEndpoint, 'protocol/openid-connect/certs');
    assert.equal(config.corsAllowOrigin, 'https://app.example.org');
    assert.equal(config.allowedQueriesFile, 'resources/hapi_page_url_allowed_queries.json');
  });

  test('the first wrong variable in table order is the one reported', () => {
    assertRefused({ PROXY_TO: undefined, PROXY_PORT: 'x' }, 'PROXY_TO', /is required/);
  });
});

describe('RUN_MODE', () => {
  test('only DEV means development, anything else production (as upstream)', () => {
    assert.equal(isDevMode(load({ RUN_MODE: 'DEV' })), true);
    for (const raw of ['PROD', 'dev', 'DEVELOPMENT', 'anything']) {
      const config = load({ RUN_MODE: raw });
      assert.equal(config.runMode, 'PROD', raw);
      assert.equal(isDevMode(config), false, raw);
    }
  });

  test('DEV, and a lower-case dev that means PROD, are warned about', () => {
    assert.match(
      configWarnings({ RUN_MODE: 'DEV' }).join('\n'),
      /^RUN_MODE: DEV skips the token issuer check/,
    );
    assert.match(configWarnings({ RUN_MODE: 'dev' }).join('\n'), /^RUN_MODE: "dev" means PROD/);
    assert.deepEqual(configWarnings({ RUN_MODE: 'PROD' }), []);
    assert.deepEqual(configWarnings({}), []);
  });
});

/**
 * Issue 12: the AUDIT_* settings. Where the events go is decided at start (PROXY_TO by default,
 * with its credentials; another FHIR base; none, then a file is required), and a log file that
 * cannot be opened stops `start` and `check-config` with the variable's name.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, configWarnings, loadConfig } from '../../src/config/index.js';
import { configErrorLine, runCli } from '../cli/cli-process.js';

const BASE = {
  PROXY_TO: 'http://hapi:8080/fhir',
  TOKEN_ISSUER: 'https://keycloak/realms/fhir',
  ACCESS_CHECKER: 'list',
};

function refused(env: Record<string, string>, variable: string, reason: RegExp): void {
  assert.throws(
    () => loadConfig({ ...BASE, ...env }),
    (error: unknown) =>
      error instanceof ConfigError && error.variable === variable && reason.test(error.reason),
  );
}

describe('AUDIT_* settings', () => {
  test('audit off: no audit settings at all', () => {
    assert.equal('audit' in loadConfig(BASE), false);
    assert.equal('audit' in loadConfig({ ...BASE, AUDIT_EVENT_ACTIONS_CONFIG: ' ' }), false);
  });

  test('audit on: PROXY_TO is the sink, through the backend client, with the documented defaults', () => {
    assert.deepEqual(loadConfig({ ...BASE, AUDIT_EVENT_ACTIONS_CONFIG: 'crude' }).audit, {
      actions: new Set('CRUDE'),
      sinkUrl: 'http://hapi:8080/fhir',
      sinkIsBackend: true,
      queueMaxEvents: 10000,
      queueMaxBytes: 67108864,
      batchMaxEvents: 100,
      flushIntervalMs: 1000,
    });
  });

  test('AUDIT_SINK_URL: another FHIR base (its own client), or PROXY_TO written with a slash', () => {
    const other = loadConfig({
      ...BASE,
      AUDIT_EVENT_ACTIONS_CONFIG: 'R',
      AUDIT_SINK_URL: 'https://audit/fhir/',
    });
    assert.equal(other.audit?.sinkUrl, 'https://audit/fhir');
    assert.equal(other.audit?.sinkIsBackend, false);
    const same = loadConfig({
      ...BASE,
      AUDIT_EVENT_ACTIONS_CONFIG: 'R',
      AUDIT_SINK_URL: 'http://hapi:8080/fhir/',
    });
    assert.equal(same.audit?.sinkIsBackend, true);
  });

  test('AUDIT_SINK_URL=none replaces the FHIR sink by the file, and needs one', () => {
    const fileOnly = loadConfig({
      ...BASE,
      AUDIT_EVENT_ACTIONS_CONFIG: 'R',
      AUDIT_SINK_URL: 'none',
      AUDIT_LOG_FILE: '-',
    });
    assert.equal(fileOnly.audit?.sinkUrl, undefined);
    assert.equal(fileOnly.audit?.logFile, '-');
    refused(
      { AUDIT_EVENT_ACTIONS_CONFIG: 'R', AUDIT_SINK_URL: 'none' },
      'AUDIT_SINK_URL',
      /AUDIT_LOG_FILE is unset/,
    );
  });

  test('bad values are refused with the variable named', () => {
    refused({ AUDIT_SINK_URL: 'ftp://audit/fhir' }, 'AUDIT_SINK_URL', /http/);
    refused({ AUDIT_SINK_URL: 'https://audit/fhir?x=1' }, 'AUDIT_SINK_URL', /query/);
    refused({ AUDIT_QUEUE_MAX_EVENTS: '0' }, 'AUDIT_QUEUE_MAX_EVENTS', /whole number/);
    refused({ AUDIT_QUEUE_MAX_BYTES: '1000' }, 'AUDIT_QUEUE_MAX_BYTES', /whole number/);
    refused({ AUDIT_BATCH_MAX_EVENTS: '10001' }, 'AUDIT_BATCH_MAX_EVENTS', /whole number/);
    refused({ AUDIT_FLUSH_INTERVAL_MS: '1s' }, 'AUDIT_FLUSH_INTERVAL_MS', /whole number/);
  });

  test('an audit sink set while audit is off is warned about', () => {
    assert.ok(
      configWarnings({ ...BASE, AUDIT_LOG_FILE: '/var/log/audit.jsonl' }).some((w) =>
        w.startsWith('AUDIT_LOG_FILE: is set, but AUDIT_EVENT_ACTIONS_CONFIG is empty'),
      ),
      'a warning',
    );
    assert.deepEqual(
      configWarnings({ ...BASE, AUDIT_EVENT_ACTIONS_CONFIG: 'R', AUDIT_LOG_FILE: '-' }).filter((w) =>
        w.startsWith('AUDIT'),
      ),
      [],
    );
  });

  test('a log file that cannot be opened stops check-config (exit 2), naming AUDIT_LOG_FILE', async () => {
    const run = await runCli(['check-config'], {
      PROXY_TO: 'http://127.0.0.1:9/fhir',
      TOKEN_ISSUER: 'http://127.0.0.1:9/realms/test',
      ACCESS_CHECKER: 'permissive',
      RUN_MODE: 'DEV',
      AUDIT_EVENT_ACTIONS_CONFIG: 'R',
      AUDIT_LOG_FILE: '/nonexistent-dir/audit.jsonl',
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      configErrorLine(run) ?? '',
      /^fhir-gateway: configuration error: AUDIT_LOG_FILE: cannot open "\/nonexistent-dir\/audit.jsonl" for appending \(ENOENT\)$/,
    );
  });
});

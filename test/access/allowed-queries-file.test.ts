import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadAllowedQueries, parseAllowedQueries } from '../../src/access/allowed-queries-file.js';
import { ConfigError } from '../../src/config/config-error.js';

const shippedPagingFile = fileURLToPath(
  new URL('../../resources/hapi_page_url_allowed_queries.json', import.meta.url),
);

/** Asserts that parsing `json` fails with a one-line ConfigError for ALLOWED_QUERIES_FILE containing `reason`. */
function assertRefused(json: string, reason: string) {
  assert.throws(
    () => parseAllowedQueries(json, 'queries.json'),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.variable, 'ALLOWED_QUERIES_FILE');
      assert.equal(error.message, `ALLOWED_QUERIES_FILE: queries.json: ${reason}`);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    },
  );
}

describe('loadAllowedQueries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'allowed-queries-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads the shipped paging file: base path, GET only, _getpages required, extra params allowed', () => {
    assert.deepEqual(loadAllowedQueries(shippedPagingFile).entries, [
      {
        path: '',
        requestType: 'GET',
        queryParams: { _getpages: 'ANY_VALUE' },
        allowExtraParams: true,
        allParamsRequired: true,
        allowUnauthenticatedRequests: false,
      },
    ]);
  });

  test('a file that cannot be read is refused with the path and the reason', () => {
    const missing = join(dir, 'missing.json');
    assert.throws(() => loadAllowedQueries(missing), {
      name: 'ConfigError',
      message: `ALLOWED_QUERIES_FILE: ${missing}: cannot be read (ENOENT)`,
    });
  });

  test('the error names the file that was read', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"entries": [{}]}');
    assert.throws(() => loadAllowedQueries(file), {
      message: `ALLOWED_QUERIES_FILE: ${file}: entries[0].path: is required`,
    });
  });
});

describe('parseAllowedQueries: refused files', () => {
  test('invalid JSON', () => {
    assert.throws(() => parseAllowedQueries('{"entries": [', 'queries.json'), {
      name: 'ConfigError',
      message: /^ALLOWED_QUERIES_FILE: queries\.json: is not valid JSON \(.+\)$/,
    });
  });

  test('not an object, or null', () => {
    assertRefused('[]', 'must be a JSON object with an "entries" array');
    assertRefused('null', 'must be a JSON object with an "entries" array');
  });

  test('missing or non-array entries', () => {
    assertRefused('{}', 'entries: must be an array of entries');
    assertRefused('{"entries": {}}', 'entries: must be an array of entries');
  });

  test('an entry that is not an object', () => {
    assertRefused('{"entries": [{"path": ""}, null]}', 'entries[1]: must be an object');
  });

  test('an entry without path, or with a null path, names the entry index', () => {
    assertRefused(
      '{"entries": [{"path": "a"}, {"path": "b"}, {"queryParams": {}}]}',
      'entries[2].path: is required',
    );
    assertRefused('{"entries": [{"path": null}]}', 'entries[0].path: is required');
  });

  test('wrong field types', () => {
    assertRefused('{"entries": [{"path": 1}]}', 'entries[0].path: must be a string');
    assertRefused(
      '{"entries": [{"path": "", "requestType": 1}]}',
      'entries[0].requestType: must be a string (an HTTP method)',
    );
    assertRefused(
      '{"entries": [{"path": "", "queryParams": []}]}',
      'entries[0].queryParams: must be an object mapping param names to values',
    );
    assertRefused(
      '{"entries": [{"path": "", "queryParams": {"_count": 10}}]}',
      'entries[0].queryParams._count: must be a string (a value or "ANY_VALUE")',
    );
    assertRefused(
      '{"entries": [{"path": "", "allowExtraParams": "true"}]}',
      'entries[0].allowExtraParams: must be true or false',
    );
    assertRefused(
      '{"entries": [{"path": "", "allParamsRequired": 1}]}',
      'entries[0].allParamsRequired: must be true or false',
    );
    assertRefused(
      '{"entries": [{"path": "", "allowUnauthenticatedRequests": "yes"}]}',
      'entries[0].allowUnauthenticatedRequests: must be true or false',
    );
  });
});

describe('parseAllowedQueries: accepted files', () => {
  test('a missing or null queryParams means {} (upstream fails with a NullPointerException per request)', () => {
    const allowed = parseAllowedQueries(
      '{"entries": [{"path": "Binary"}, {"path": "List", "queryParams": null}]}',
      'q',
    );
    assert.deepEqual(
      allowed.entries.map((entry) => entry.queryParams),
      [{}, {}],
    );
    assert.ok(allowed.match({ method: 'GET', path: 'Binary', query: [] }, true));
  });

  test('absent and null flags default to false, an absent requestType to any method', () => {
    const allowed = parseAllowedQueries(
      '{"entries": [{"path": "", "requestType": null, "allowExtraParams": null}]}',
      'q',
    );
    assert.deepEqual(allowed.entries, [
      {
        path: '',
        requestType: undefined,
        queryParams: {},
        allowExtraParams: false,
        allParamsRequired: false,
        allowUnauthenticatedRequests: false,
      },
    ]);
  });

  test('an empty entries list is valid and matches nothing', () => {
    const allowed = parseAllowedQueries('{"entries": []}', 'q');
    assert.equal(allowed.match({ method: 'GET', path: '', query: [] }, true), undefined);
  });

  test('unknown fields are ignored, as upstream, but reported as warnings', () => {
    const allowed = parseAllowedQueries(
      '{"version": 2, "entries": [{"path": "Patient", "requesType": "GET", "queryParams": {}}]}',
      'queries.json',
    );
    assert.equal(allowed.entries[0]?.requestType, undefined);
    const warnings = allowed.warnings();
    assert.ok(warnings.includes('ALLOWED_QUERIES_FILE: queries.json: unknown field "version" is ignored'));
    assert.ok(
      warnings.includes(
        'ALLOWED_QUERIES_FILE: queries.json: entries[0]: unknown field "requesType" is ignored',
      ),
    );
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONFIG_VARIABLE_SOURCES, type ConfigVariable } from '../../src/config/variables.js';

const repoRoot = new URL('../../', import.meta.url);

interface DocumentedVariable {
  readonly name: string;
  readonly defaultCell: string;
}

/**
 * Rows of Markdown tables whose first cell is a backticked UPPER_CASE name, or a lower_snake_case
 * one with at least one underscore (`opensrp_cache_timeout_seconds`, read under the Java name).
 */
function documentedVariables(markdown: string): DocumentedVariable[] {
  const rows: DocumentedVariable[] = [];
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // `| a | b |` splits into ['', 'a', 'b', '']
    const name = /^`([A-Z][A-Z0-9_]*|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)`$/.exec(cells[1] ?? '')?.[1];
    if (line.startsWith('|') && name !== undefined) rows.push({ name, defaultCell: cells[2] ?? '' });
  }
  return rows;
}

/** How the default column must read for a variable. */
function expectedDefaultCell(variable: ConfigVariable): string {
  if (variable.default !== undefined) return `\`${variable.default}\``;
  return variable.required ? '*required*' : '—';
}

const docs = [...new Set(CONFIG_VARIABLE_SOURCES.map((source) => source.doc))];

for (const doc of docs) {
  describe(`${doc} documents every configuration variable`, () => {
    const variables = CONFIG_VARIABLE_SOURCES.filter((source) => source.doc === doc).flatMap(
      (source) => source.variables,
    );
    const documented = documentedVariables(readFileSync(fileURLToPath(new URL(doc, repoRoot)), 'utf8'));

    test('every variable read by the code is in a table of the doc', () => {
      const names = new Set(documented.map((row) => row.name));
      const missing = variables
        .filter((variable) => !names.has(variable.name))
        .map((variable) => variable.name);
      assert.deepEqual(missing, [], `add these to ${doc}`);
    });

    test('every variable in the tables of the doc is read by the code', () => {
      const names = new Set(variables.map((variable) => variable.name));
      const unknown = documented.filter((row) => !names.has(row.name)).map((row) => row.name);
      assert.deepEqual(unknown, [], `remove these from ${doc} or add them to src/config/variables.ts`);
    });

    test('each variable is documented once, with the default the code uses', () => {
      const names = documented.map((row) => row.name);
      assert.deepEqual(
        names.filter((name, index) => names.indexOf(name) !== index),
        [],
        'documented twice',
      );
      for (const variable of variables) {
        const row = documented.find((candidate) => candidate.name === variable.name);
        if (row !== undefined) assert.equal(row.defaultCell, expectedDefaultCell(variable), variable.name);
      }
    });
  });
}

describe('documentedVariables (the drift test parser)', () => {
  test('reads names and defaults from table rows only', () => {
    const markdown = [
      'Set `PROXY_TO` first.',
      '| Variable | Default | Meaning |',
      '|---|---|---|',
      '| `PROXY_TO` | *required* | base URL |',
      '| `PROXY_PORT` | `8080` | the port, see `PROXY_HOST` |',
      '| `lowercase` | — | not a variable row |',
      '| `Mixed_Case` | — | not a variable row |',
      '| `opensrp_cache_timeout_seconds` | `300` | a lower-case variable |',
    ].join('\n');
    assert.deepEqual(documentedVariables(markdown), [
      { name: 'PROXY_TO', defaultCell: '*required*' },
      { name: 'PROXY_PORT', defaultCell: '`8080`' },
      { name: 'opensrp_cache_timeout_seconds', defaultCell: '`300`' },
    ]);
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';

function runGateway(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

const VALID = {
  PROXY_TO: 'http://127.0.0.1:9/fhir',
  TOKEN_ISSUER: 'http://127.0.0.1:9/realms/test',
  ACCESS_CHECKER: 'permissive',
  RUN_MODE: 'DEV',
};

describe('misconfiguration exits 2 with a one-line reason, before listening', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['missing PROXY_TO', { ...VALID, PROXY_TO: '' }, /PROXY_TO/],
    ['bad PROXY_PORT', { ...VALID, PROXY_PORT: 'eighty' }, /PROXY_PORT/],
    ['HS256 in TOKEN_ALGORITHMS', { ...VALID, TOKEN_ALGORITHMS: 'HS256' }, /TOKEN_ALGORITHMS/],
    [
      'audit letters with commas',
      { ...VALID, AUDIT_EVENT_ACTIONS_CONFIG: 'C,R' },
      /AUDIT_EVENT_ACTIONS_CONFIG/,
    ],
    [
      'unknown access checker',
      { ...VALID, ACCESS_CHECKER: 'nope' },
      /ACCESS_CHECKER: unknown access checker 'nope'/,
    ],
    [
      'permissive outside DEV',
      { ...VALID, RUN_MODE: 'PROD' },
      /ACCESS_CHECKER: 'permissive' is only allowed with RUN_MODE=DEV/,
    ],
    [
      'missing allowed-queries file',
      { ...VALID, ALLOWED_QUERIES_FILE: '/nonexistent/file.json' },
      /ALLOWED_QUERIES_FILE/,
    ],
  ];
  for (const [name, env, pattern] of cases) {
    test(name, async () => {
      const { code, stderr } = await runGateway(env);
      assert.equal(code, 2, stderr);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line, got: ${stderr}`);
      assert.match(lines[0]!, pattern);
    });
  }

  test('check-config validates without starting', async () => {
    const { code, stdout } = await runGateway(VALID, ['check-config']);
    assert.equal(code, 0);
    assert.match(stdout, /valid/);
  });
});

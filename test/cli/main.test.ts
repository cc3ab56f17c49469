/** The command line itself: help, unknown commands and options (misconfigurations: check-config.test.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from './cli-process.js';

describe('usage', () => {
  for (const args of [['--help'], ['-h'], ['help'], ['check-config', '--help'], ['explain', '-h']]) {
    test(`${args.join(' ')} prints the usage on stdout and exits 0, whatever the environment`, async () => {
      const run = await runCli(args, {});
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^usage: fhir-gateway/);
      assert.match(run.stdout, /check-config \[--online\]/);
      assert.match(run.stdout, /explain --token/);
      assert.equal(run.stderr, '');
    });
  }

  const refused: [string[], RegExp][] = [
    [['serve'], /unknown command "serve"/],
    [['check-config', '--offline'], /Unknown option '--offline'/],
    [['start', 'now'], /Unexpected argument 'now'/],
    [['explain', 'GET /fhir/Patient'], /explain needs --token/],
    [['explain', '--token', 'a.b.c'], /explain needs a request/],
  ];
  for (const [args, reason] of refused) {
    test(`${args.join(' ')} exits 2 with the reason and the usage on stderr`, async () => {
      const run = await runCli(args, {});
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, reason);
      assert.match(run.stderr, /usage: fhir-gateway/);
      assert.equal(run.stdout, '');
    });
  }
});

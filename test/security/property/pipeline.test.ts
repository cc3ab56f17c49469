/**
 * Issue 8, "Done when" item 2, and issue 10 ("the property-based test of the enforcement issue also
 * runs with these checkers"): the property-based test of the whole pipeline (harness.ts), with a
 * fixed seed and a bounded count so that it runs in CI, once per checker setting;
 * `npm run test:security -- --runs=N` runs them longer by hand. The self-tests show each oracle
 * can fail: a gateway that checks nothing (the permissive checker) is caught.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runProperty, summaryLine } from './harness.js';

const SEED = 20260801;

test('generated users, data and requests: every answer holds only what the caller may see, nothing unauthorized is forwarded, no gateway 5xx', async (t) => {
  const result = await runProperty({ runs: 60, seed: SEED, requestsPerWorld: { min: 20, max: 40 } });
  t.diagnostic(summaryLine(result.stats));
  assert.equal(result.failure, undefined, result.failure);
  assert.equal(result.stats.leaked, 0);
  // The generators must reach the backend often enough for the run to mean something.
  assert.ok(result.stats.forwarded >= 150, summaryLine(result.stats));
});

for (const checker of ['patient', 'list', 'patient,list'] as const) {
  test(`ACCESS_CHECKER=${checker}: generated patients, compartments, Lists, SMART scopes and requests hold to the compartment and scope rules`, async (t) => {
    const result = await runProperty({
      runs: 80,
      seed: SEED,
      checker,
      requestsPerWorld: { min: 20, max: 40 },
    });
    t.diagnostic(summaryLine(result.stats));
    assert.equal(result.failure, undefined, result.failure);
    assert.equal(result.stats.leaked, 0);
    assert.ok(result.stats.forwarded >= 100, summaryLine(result.stats));
  });
}

test('the oracle catches a gateway that does not check (permissive checker, DEV mode)', async (t) => {
  const result = await runProperty({
    runs: 5,
    seed: SEED,
    requestsPerWorld: { min: 20, max: 30 },
    env: { ACCESS_CHECKER: 'permissive', RUN_MODE: 'DEV' },
  });
  t.diagnostic(`self-test against a gateway that checks nothing: ${summaryLine(result.stats)}`);
  assert.ok(result.failure !== undefined, 'the property held against a gateway that checks nothing');
  assert.match(result.failure, /\[(leak|forward)\]/);
});

test('the patient-centred oracle catches a gateway that does not check (permissive checker, DEV mode)', async (t) => {
  const result = await runProperty({
    runs: 5,
    seed: SEED,
    checker: 'patient',
    requestsPerWorld: { min: 20, max: 30 },
    env: { ACCESS_CHECKER: 'permissive', RUN_MODE: 'DEV' },
  });
  t.diagnostic(`self-test against a gateway that checks nothing: ${summaryLine(result.stats)}`);
  assert.ok(result.failure !== undefined, 'the property held against a gateway that checks nothing');
  assert.match(result.failure, /\[(leak|forward)\]/);
});

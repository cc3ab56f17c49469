/**
 * RT-COMPOSE-3 — OPEN. ACCESS_CHECKER=list,patient, a token whose scopes lack `d` (or `u`): a
 * DELETE of a resource the list checker sees but the patient checker hides answers 403 ("The
 * token's SMART scopes grant no delete (d) of Observation"), a missing id 404: the list checker
 * reads first and its 404 for the missing id wins, while for the existing one the patient checker's
 * request-alone refusal answers. With patient,list both answer 403 (the scope refusal comes first).
 * Order-dependent, older than the compose change. Safe answer: the same status for both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  JSON_PATCH,
  PATIENT_NON_AUTHORIZED,
  startCheckerStack,
  TEST_LIST_ID,
} from '../../checkers/checker-kit.js';

describe('RT-COMPOSE-3 (open) list,patient: a scope refusal after the list checker read', () => {
  let s: CheckerStack;
  before(async () => {
    s = await startCheckerStack('list,patient');
  });
  after(() => s.close());
  // The list checker sees obs-auth-vital (test-list holds its patient); the patient checker does not.
  const call = (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
    s.call(
      { patient_id: PATIENT_NON_AUTHORIZED, patient_list: TEST_LIST_ID, scope: 'patient/Observation.rs' },
      method,
      path,
      options,
    );

  for (const [method, options] of [
    ['DELETE', undefined],
    ['PATCH', { body: [{ op: 'replace', path: '/status', value: 'amended' }], contentType: JSON_PATCH }],
  ] as const) {
    test(`${method} without the scope letter: a hidden resource answers as a missing one`, {
      todo: 'FINDING open: the first checker’s 404 wins over a later request-alone refusal',
    }, async () => {
      const missing = await call(method, 'Observation/nobody-here', options);
      const hidden = await call(method, 'Observation/obs-auth-vital', options);
      assert.equal(hidden.status, missing.status, `hidden ${hidden.status}, missing ${missing.status}`);
      assert.ok(!s.forwarded().some((line) => line.startsWith(method)));
    });
  }
});

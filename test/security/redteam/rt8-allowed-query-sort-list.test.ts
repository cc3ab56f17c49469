/**
 * RT8 — without a token, the shipped allowed-queries file (`Composition?identifier=ANY_VALUE`,
 * allowExtraParams) lets `_sort` chains and `_list` ride along: both select or order the answer by
 * other resources (the checker's own joins.ts counts them as probes), but reachesOtherData looks
 * only for a `.` in the param *name*, join prefixes and `_getpages`. The safe answer is 401.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { send } from '../../support/http.js';
import { type SecurityStack, startSecurityStack } from '../security-stack.js';

describe('RT8 allowed queries: _sort chains and _list ride on allowExtraParams', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack({ ALLOWED_QUERIES_FILE: 'resources/opensrp_allowed_queries.json' });
  });
  after(() => s.close());

  for (const extra of ['_sort=subject.name', '_sort=-subject:Patient.birthdate', '_list=list-own']) {
    test(`RT8 GET Composition?identifier=app-location&${extra} without a token → 401, nothing forwarded`, async () => {
      s.fhir.clearRequests();
      const response = await send(s.stack.gatewayUrl, {
        path: `/fhir/Composition?identifier=app-location&${extra}`,
      });
      assert.equal(response.status, 401, response.text.slice(0, 200));
      assert.deepEqual(s.forwarded(), []);
    });
  }
});

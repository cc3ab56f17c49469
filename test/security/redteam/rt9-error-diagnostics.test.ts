/**
 * RT9 — error answers pass through unread, and HAPI's name resources the caller may not see.
 * Deleting an in-scope patient that an out-of-scope Observation references answers 409
 * "HAPI-0550: Unable to delete Patient/<p2> because at least one resource has a reference to this
 * resource. First reference found was resource Observation/o-x9 in path Observation.subject"
 * (enforceReferentialIntegrityOnDelete, on by default; `$validate?mode=delete` says the same). The
 * local server has no referential integrity, so its interceptor answers the DELETE as HAPI does.
 * The safe answer keeps the status and drops what names out-of-scope resources.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { android, type SecurityStack, startSecurityStack } from '../security-stack.js';

describe('RT9 backend error diagnostics name out-of-scope resources', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack();
  });
  after(() => s.close());

  test('RT9 DELETE Patient/<in-scope p2> answered 409 by HAPI does not name Observation/o-x9', async () => {
    s.fhir.intercept((req, res) => {
      if (req.method !== 'DELETE' || !req.path.endsWith(`/Patient/${s.p2}`)) return false;
      res.writeHead(409, { 'content-type': 'application/fhir+json;charset=utf-8' });
      res.end(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [
            {
              severity: 'error',
              code: 'processing',
              diagnostics: `HAPI-0550: Unable to delete Patient/${s.p2} because at least one resource has a reference to this resource. First reference found was resource Observation/o-x9 in path Observation.subject`,
            },
          ],
        }),
      );
      return true;
    });
    try {
      const response = await s.call(android('GET_PATIENT', 'DELETE_PATIENT'), 'DELETE', `Patient/${s.p2}`);
      assert.equal(response.status, 409, response.text);
      assert.ok(
        !response.text.includes('o-x9'),
        `the answer names an out-of-scope resource: ${response.text}`,
      );
    } finally {
      s.fhir.intercept(undefined);
    }
  });
});

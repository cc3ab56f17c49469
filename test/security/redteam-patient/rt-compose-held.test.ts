/**
 * Variants of the destructive-extension refusal (F1) and of the composed 404 rule (F2) tried by the
 * rt-compose red team that held: each is refused with nothing forwarded, or answers a hidden
 * resource as a missing one. The findings are rt-compose-1…3 beside this file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CheckerStack,
  JSON_PATCH,
  PATIENT_AUTHORIZED,
  startCheckerStack,
  TEST_LIST_ID,
} from '../../checkers/checker-kit.js';

const ME = `Patient/${PATIENT_AUTHORIZED}`;
const patch = { body: [{ op: 'replace', path: '/status', value: 'amended' }], contentType: JSON_PATCH };
const bundleOf = (method: string, url: string) => ({
  body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method, url } }] },
});

for (const checkers of ['list', 'patient,list', 'list,patient']) {
  describe(`rt-compose held (${checkers})`, () => {
    let s: CheckerStack;
    before(async () => {
      s = await startCheckerStack(checkers);
    });
    after(() => s.close());
    const call = (method: string, path: string, options?: Parameters<CheckerStack['call']>[3]) =>
      s.call({ patient_id: PATIENT_AUTHORIZED, patient_list: TEST_LIST_ID, scope: 'patient/*.cruds' }, method, path, options);

    test('destructive extensions in every spelling tried: refused, nothing forwarded', async () => {
      for (const [method, path, options] of [
        ['DELETE', 'Observation/obs-auth-lab?_cascade:x=delete', undefined],
        ['DELETE', 'Observation/obs-auth-lab?%5Fcascade=delete', undefined],
        ['DELETE', 'Observation/obs-auth-lab?_casc%61de=delete', undefined],
        ['DELETE', `Observation?subject=${ME}&_cascade=delete`, undefined],
        ['DELETE', `Observation?subject=${ME}&_expunge=true`, undefined],
        ['DELETE', 'Observation/obs-auth-lab', { headers: { 'X-Cascade': 'delete' } }],
        ['DELETE', `${ME}?_cascade=delete`, undefined],
        ['DELETE', 'List/shared-list?_cascade=delete', undefined],
        ['DELETE', 'Observation/nobody-here?_cascade=delete', undefined],
        ['PATCH', 'Observation/obs-auth-lab?_cascade=delete', patch],
        ['POST', 'Observation/obs-auth-lab/$expunge', { body: { resourceType: 'Parameters' } }],
        ['POST', '', bundleOf('DELETE', 'Observation/obs-auth-lab?_cascade=delete')],
        ['POST', '', bundleOf('DELETE', `Observation?subject=${ME}&_expunge=true`)],
        ['POST', '', { ...bundleOf('DELETE', 'Observation/obs-auth-lab'), headers: { 'X-Cascade': 'delete' } }],
        ['POST', '?_cascade=delete', bundleOf('DELETE', 'Observation/obs-auth-lab')],
      ] as const) {
        const response = await call(method, path, options);
        assert.ok([400, 403].includes(response.status), `${method} ${path}: ${response.status} ${response.text}`);
        assert.deepEqual(
          s.forwarded().filter((line) => !line.startsWith('GET ')),
          [],
          `${method} ${path}`,
        );
      }
    });

    test('a destructive DELETE of a hidden resource answers as of a missing one', async () => {
      const hidden = await call('DELETE', 'Observation/obs-other-only?_cascade=delete');
      const missing = await call('DELETE', 'Observation/nobody-here?_cascade=delete');
      assert.equal(hidden.status, missing.status);
    });
  });
}

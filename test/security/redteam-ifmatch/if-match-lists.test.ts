/**
 * Red team of 10ae9b0 (src/access/version-guard.ts): If-Match values that RFC 9110 makes valid and
 * that hold the checked version must be narrowed to it, not answered 412 (as the first guard, which
 * split the value on every comma, did):
 * - empty list elements (`W/"v",`, `, W/"v"`, `W/"v", , W/"x"`), which a recipient MUST ignore
 *   (RFC 9110 §5.6.1.2); the same comes from a client that sends a second, empty If-Match line,
 *   which Node joins into `W/"v", `;
 * - an opaque tag holding a comma (`W/"a,b", W/"v"`): etagc includes %x2C (RFC 9110 §8.8.3).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { androidPatientWrites, rawExchange } from './kit.js';

describe('If-Match lists that hold the checked version are narrowed to it (RFC 9110 list syntax)', () => {
  const w = androidPatientWrites();

  const lists: [string, (v: string) => string][] = [
    ['a trailing empty element', (v) => `W/"${v}",`],
    ['a leading empty element', (v) => `, W/"${v}"`],
    ['an empty element in the middle', (v) => `W/"${v}", , W/"other"`],
    ['another tag holding a comma', (v) => `W/"a,b", W/"${v}"`],
  ];
  for (const [what, list] of lists) {
    test(`${what}: forwarded with the checked version`, async () => {
      const stored = await w.read();
      const checked = stored.meta!.versionId!;
      const response = await w.stack().call(w.token(), `Patient/${w.id()}`, {
        method: 'PUT',
        body: { ...stored, birthDate: '1990-02-03' },
        headers: { 'if-match': list(checked) },
      });
      assert.equal(response.status, 200, response.text);
      assert.equal(w.forwardedPuts()[0]?.headers['if-match'], `W/"${checked}"`);
    });
  }

  test('a second, empty If-Match line: forwarded with the checked version', async () => {
    const stored = await w.read();
    const checked = stored.meta!.versionId!;
    w.stack().fhir.clearRequests();
    const status = await rawExchange(
      w.stack().stack.gatewayUrl,
      w.rawPutHead(`If-Match: W/"${checked}"\r\nIf-Match:\r\n`),
      JSON.stringify({ ...stored, birthDate: '1990-03-04' }),
    );
    assert.match(status, / 200 /);
    assert.equal(w.forwardedPuts()[0]?.headers['if-match'], `W/"${checked}"`);
  });
});

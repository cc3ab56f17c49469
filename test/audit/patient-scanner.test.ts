/**
 * The scanner that names an answer's Patients in its AuditEvent (src/audit/patients.ts), against a
 * regular expression that states the rule directly, on whole texts and on every way of cutting
 * them into two or three chunks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PatientScanner } from '../../src/audit/patients.js';

const BASE = 'https://gw.example.org/fhir';

/** The rule, as a regular expression (too slow for every answer, exact enough for a reference). */
function expected(text: string): string[] {
  const xml = /^\s*</.test(text);
  const pattern = xml
    ? /<(?:fullUrl|reference)[ \t\r\n]+value="([^"]{0,2048}?)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^"/]{1,64})?"/g
    : /(?<!\\)"(?:fullUrl|reference)"[ \t\r\n]*:[ \t\r\n]*"([^"\\]{0,2048}?)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^"\\/]{1,64})?"/g;
  const ids = new Set<string>();
  for (const match of text.matchAll(pattern)) {
    if (match[1] === '' || match[1] === `${BASE}/`) ids.add(match[2]!);
  }
  return [...ids].sort();
}

function scannedWhole(text: string): string[] {
  const scanner = new PatientScanner(BASE);
  scanner.text(text);
  return [...scanner.ids].sort();
}

function scannedInChunks(text: string, cuts: number[]): string[] {
  const scanner = new PatientScanner(BASE);
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    scanner.push(Buffer.from(text.slice(from, cut), 'latin1'));
    from = cut;
  }
  return [...scanner.ids].sort();
}

const JSON_TEXTS = [
  JSON.stringify({
    resourceType: 'Bundle',
    link: [{ relation: 'self', url: `${BASE}/Patient?_id=p9` }],
    entry: [
      { fullUrl: `${BASE}/Patient/p1`, resource: { resourceType: 'Patient', id: 'p1' } },
      { fullUrl: `${BASE}/Observation/o1`, resource: { subject: { reference: 'Patient/p2' } } },
      { fullUrl: 'https://elsewhere.example/fhir/Patient/x1' },
      { resource: { subject: { reference: 'Patient/p3/_history/7' }, note: [{ text: 'Patient/n1' }] } },
      {
        resource: {
          performer: [{ reference: `${BASE}/Patient/p4/_history/2` }, { reference: 'Patient/bad/extra' }],
        },
      },
      { resource: { text: '\\"reference\\":\\"Patient/s1\\"', focus: { reference: 'Patient/' } } },
      {
        resource: {
          link: { reference: `Patient/${'a'.repeat(64)}` },
          other: { reference: `Patient/${'b'.repeat(65)}` },
        },
      },
      { resource: { x: { reference: 'Patient/p5/_history/' }, y: { reference: 'Group/g1' } } },
    ],
  }),
  '{ "reference" :\n  "Patient/w1", "fullUrl":"Patient/w2/_history/1", "reference": "Patient/w3\\u0022" }',
  '{"reference":"Patient/q1/_history/a/b","reference":"Patient/q2/_history/v\\"x"}',
];

const XML_TEXTS = [
  `<Bundle xmlns="http://hl7.org/fhir"><entry><fullUrl value="${BASE}/Patient/x1"/><resource><Observation>` +
    '<subject><reference value="Patient/x2/_history/3"/></subject><focus><reference  value="Patient/x3"/></focus>' +
    '<note><text value="Patient/n1"/></note><performer><reference value="https://other.example/Patient/x4"/>' +
    '</performer><basedOn><referencevalue="Patient/x5"/></basedOn></Observation></resource></entry></Bundle>',
];

describe('PatientScanner', () => {
  test('whole JSON and XML texts: the same Patients as the rule', () => {
    for (const text of [...JSON_TEXTS, ...XML_TEXTS]) {
      assert.deepEqual(scannedWhole(text), expected(text), text.slice(0, 80));
    }
    // The cases above are not vacuous.
    assert.deepEqual(expected(JSON_TEXTS[0]!), ['a'.repeat(64), 'p1', 'p2', 'p3', 'p4'].sort());
    assert.deepEqual(expected(XML_TEXTS[0]!), ['x1', 'x2', 'x3']);
  });

  test('cut into two chunks anywhere, and into three: nothing lost, nothing made up', () => {
    for (const text of [...JSON_TEXTS, ...XML_TEXTS]) {
      const want = expected(text);
      for (let cut = 0; cut <= text.length; cut++) {
        assert.deepEqual(scannedInChunks(text, [cut]), want, `cut at ${cut}`);
      }
      for (let a = 0; a <= text.length; a += 7) {
        for (let b = a; b <= text.length; b += 11) {
          assert.deepEqual(scannedInChunks(text, [a, b]), want, `cuts at ${a}, ${b}`);
        }
      }
    }
  });

  test('a value split by chunks larger than what is carried over is still found', () => {
    const padding = ' '.repeat(10_000);
    const text = `{"entry":[${padding}{"fullUrl":"${BASE}/Patient/far"}${padding}]}`;
    const at = text.indexOf('Patient/far');
    assert.deepEqual(scannedInChunks(text, [at + 3]), ['far']);
    assert.deepEqual(scannedInChunks(text, [at - 20, at + 9]), ['far']);
  });
});

/**
 * The scanner that names an answer's Patients in its AuditEvent (src/audit/patients.ts), against a
 * regular expression that states the rule directly, on whole texts and on every way of cutting
 * them into two or three chunks, then on generated texts cut at random.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PatientScanner } from '../../src/audit/patients.js';
import { seededRandom as random } from '../support/seeded-random.js';

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

/** The rule on bytes: each byte a character, as the scanner reads them. */
function expectedOfBytes(bytes: Buffer): string[] {
  return expected(bytes.toString('latin1'));
}

function scannedBytes(bytes: Buffer): string[] {
  const scanner = new PatientScanner(BASE);
  scanner.bytes(bytes);
  return [...scanner.ids].sort();
}

function scannedInByteChunks(bytes: Buffer, cuts: number[]): string[] {
  const scanner = new PatientScanner(BASE);
  let from = 0;
  for (const cut of cuts) {
    scanner.push(bytes.subarray(from, cut));
    from = cut;
  }
  scanner.bytes(bytes.subarray(from));
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

/** Texts aimed at the scanner's byte logic: each is also cut at every byte, and at pairs of bytes. */
const BYTE_TEXTS: { text: string; names: string[] }[] = [
  {
    // Multibyte UTF-8 right before keys, around values and in a base-like prefix.
    text:
      `{"name":[{"family":"Dupré","given":["中文"]}],"reference":"Patient/m1","note":"😀",` +
      `"fullUrl":"${BASE}/Patient/m2","é":{"reference":"https://gw.example.org/fhïr/Patient/m3"},` +
      `"中":"Patient/m4","reference":"Patient/m5/_history/2","reference":"https://gx.example.org/fhir/Patient/m6"}`,
    names: ['m1', 'm2', 'm5'],
  },
  {
    // CRLF and tabs around the colon.
    text: '{"reference"\r\n:\r\n\t"Patient/c1",\r\n\t"fullUrl" \t:"Patient/c2",\r\n"reference":\r\n"Patient/c3"\r\n}',
    names: ['c1', 'c2', 'c3'],
  },
  {
    // A key after a backslash is inside a string; a key whose quote closes the last value taken was
    // consumed by it (not JSON, but the rule's answer).
    text:
      '{"a":"x\\"reference":"Patient/s2","b":"Patient/s3"reference":"Patient/s4",' +
      '"reference":"Patient/s5"reference":"Patient/s6","reference":"https://other.example/Patient/s7"fullUrl":"Patient/s8",' +
      '"reference":"x\\\\y/Patient/s9"reference":"Patient/s10"}',
    names: ['s10', 's4', 's5'],
  },
  {
    text:
      `{"reference":"Patient/${'i'.repeat(64)}","reference":"Patient/${'j'.repeat(65)}",` +
      `"reference":"Patient/h1/_history/","reference":"Patient/h2/_history/${'v'.repeat(64)}",` +
      `"reference":"Patient/h3/_history/${'w'.repeat(65)}","reference":"Patient/h4/_history/é"}`,
    names: ['i'.repeat(64), 'h2', 'h4'],
  },
  {
    // XML: tabs, newlines and CRLF between the element's name and its attribute.
    text:
      `<Bundle>\n<entry><fullUrl\r\n  value="${BASE}/Patient/x1"/><resource><Observation>` +
      '<subject><reference\tvalue="Patient/x2"/></subject><performer><reference\n\t value="Patient/x3/_history/é"/>' +
      '</performer><text value="中 Patient/x4"/><focus><reference value="Dupré/Patient/x5"/></focus>' +
      '<basedOn><reference value="Patient/x6/_history/a\\b"/><referencevalue="Patient/x7"/></basedOn></Observation>' +
      '</resource></entry></Bundle>',
    names: ['x1', 'x2', 'x3', 'x6'],
  },
];

/** A text of values the rule names or nearly names, with noise between, JSON or XML at random. */
function generated(next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const blanks = ['', ' ', '\r\n', '\t', ' \n\t ', '\r\n\r\n'];
  const prefixes = [
    '',
    '',
    '',
    `${BASE}/`,
    `${BASE}/`,
    BASE,
    `${BASE}//`,
    `${BASE.slice(0, -1)}R/`,
    'https://elsewhere.example/fhir/',
    'Dupré/',
  ];
  const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'x.Y-9', 'a'.repeat(64), 'b'.repeat(65), '', 'é'];
  const versions = [
    '',
    '',
    '',
    '',
    '/_history/1',
    '/_history/',
    `/_history/${'v'.repeat(64)}`,
    `/_history/${'w'.repeat(65)}`,
    '/_history/a/b',
    '/_history/a\\b',
    '/x',
    '/_history/中',
  ];
  const value = () => `${pick(prefixes)}Patient/${pick(ids)}${pick(versions)}`;
  const json = () =>
    `"${pick(['fullUrl', 'reference', 'reference', 'url', 'Reference'])}"${pick(blanks)}:${pick(blanks)}"${value()}"`;
  const xml = () =>
    `<${pick(['fullUrl', 'reference', 'reference', 'url'])}${pick(blanks)}value="${value()}"/>`;
  const noise = () =>
    pick([
      '{',
      '}',
      ',',
      '[',
      ']',
      '"',
      '\\',
      '\\"',
      ':',
      '<',
      'value=',
      '"reference"',
      'reference":"Patient/p3"',
      'Patient/',
      BASE,
    ]);
  const words = () =>
    pick([
      '"name":"Léa 中文 😀"',
      '"text":"see Patient/n1"',
      '<text value="Patient/n2"/>',
      '"é":"Patient/n3"',
    ]);
  // Mostly values of the text's own format, some of the other.
  const isJson = next() < 0.5;
  const pieces = isJson ? [json, json, json, xml, noise, words] : [xml, xml, xml, json, noise, words];
  let text = `${pick(blanks)}${isJson ? '{' : '<Bundle>'}`;
  const count = 1 + Math.floor(next() * 30);
  for (let i = 0; i < count; i++) text += pick(pieces)() + pick(['', ',', ' ', '\n']);
  return text;
}

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
  test('texts aimed at the byte logic: whole, as bytes and as a string, and cut at every byte', () => {
    for (const { text, names } of BYTE_TEXTS) {
      const bytes = Buffer.from(text, 'utf8');
      const want = expectedOfBytes(bytes);
      // Not vacuous, and the rule on bytes is the rule on the text here.
      assert.deepEqual(want, [...names].sort(), text.slice(0, 60));
      assert.deepEqual(expected(text), want);
      assert.deepEqual(scannedBytes(bytes), want);
      assert.deepEqual(scannedWhole(text), want);
      for (let cut = 0; cut <= bytes.length; cut++) {
        assert.deepEqual(scannedInByteChunks(bytes, [cut]), want, `cut at ${cut}`);
      }
      for (let a = 0; a <= bytes.length; a += 5) {
        for (let b = a; b <= bytes.length; b += 3) {
          assert.deepEqual(scannedInByteChunks(bytes, [a, b]), want, `cuts at ${a}, ${b}`);
        }
      }
      // One byte at a time: every key, base, `Patient/` and id is cut everywhere at once.
      const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
      assert.deepEqual(scannedInByteChunks(bytes, everyByte), want, 'byte by byte');
    }
  });

  test('many values in one chunk, and in chunks cut inside them', () => {
    const entries = Array.from({ length: 300 }, (_, i) => ({
      fullUrl: `${BASE}/Patient/e${i}`,
      resource: {
        resourceType: 'Patient',
        id: `e${i}`,
        name: [{ family: 'Ñúñez' }],
        link: [{ other: { reference: `Patient/l${i % 7}` } }],
      },
    }));
    const bytes = Buffer.from(JSON.stringify({ resourceType: 'Bundle', entry: entries }), 'utf8');
    const want = expectedOfBytes(bytes);
    assert.equal(want.length, 307);
    assert.deepEqual(scannedBytes(bytes), want);
    for (const size of [1000, 4096, 16_384, 777]) {
      const cuts = [];
      for (let at = size; at < bytes.length; at += size) cuts.push(at);
      assert.deepEqual(scannedInByteChunks(bytes, cuts), want, `chunks of ${size}`);
    }
  });

  test('the first non-blank byte decides the format, in whichever chunk it comes', () => {
    const xml = Buffer.from(
      `\r\n <Bundle><entry><fullUrl value="${BASE}/Patient/b1"/></entry></Bundle>`,
      'utf8',
    );
    assert.deepEqual(scannedInByteChunks(xml, [0, 0, 1, 3]), ['b1']);
    // A byte order mark is blank here, as `\s` takes it in a string.
    const marked = `\ufeff<Bundle><entry><fullUrl value="Patient/b2"/></entry></Bundle>`;
    assert.deepEqual(scannedWhole(marked), expected(marked));
    assert.deepEqual(scannedInByteChunks(Buffer.from(marked, 'utf8'), [1, 2, 3]), ['b2']);
    // An XML-looking value in a JSON answer is not read as XML, nor the other way round.
    assert.deepEqual(scannedWhole('{"a":"<reference value=\\"Patient/j1\\"/>","reference":"Patient/j2"}'), [
      'j2',
    ]);
    assert.deepEqual(
      scannedWhole(
        '<Bundle><text value="&quot;reference&quot;:&quot;Patient/k1&quot;"/><reference value="Patient/k2"/></Bundle>',
      ),
      ['k2'],
    );
  });

  test('generated texts cut at random: the same Patients as the rule', () => {
    const next = random(12);
    let named = 0;
    for (let n = 0; n < 400; n++) {
      const bytes = Buffer.from(generated(next), 'utf8');
      const want = expectedOfBytes(bytes);
      named += want.length;
      assert.deepEqual(scannedBytes(bytes), want, `text ${n}: ${bytes.toString('utf8')}`);
      for (let round = 0; round < 4; round++) {
        const cuts = Array.from({ length: 1 + Math.floor(next() * 4) }, () =>
          Math.floor(next() * (bytes.length + 1)),
        );
        cuts.sort((a, b) => a - b);
        assert.deepEqual(
          scannedInByteChunks(bytes, cuts),
          want,
          `text ${n} cut at ${cuts}: ${bytes.toString('utf8')}`,
        );
      }
    }
    // Not vacuous: the texts name Patients often.
    assert.ok(named > 400, `${named} Patients named`);
  });
});

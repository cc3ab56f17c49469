/**
 * The required elements of the IHE Basic Audit Log Patterns (BALP) RESTful profiles, written out
 * as data from the profiles' FSH sources (IHE/ITI.BasicAudit, input/fsh/Patient{Create,Read,
 * Update,Delete,Query}.fsh at 09fe729, published at https://profiles.ihe.net/ITI/BALP/), and an
 * assertion that checks an AuditEvent against them element by element, plus the base R4
 * AuditEvent definition (cardinalities, types, invariants) through @medplum/core's validator.
 */
import assert from 'node:assert/strict';
import { validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { ensureDefinitionsIndexed } from '../support/fhir-server/definitions.js';

export type Family = 'Create' | 'Read' | 'Update' | 'Delete' | 'Query';

interface Code {
  readonly system: string;
  readonly code: string;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SOURCE_ROLE: Code = { system: DCM, code: '110153' };
const DESTINATION_ROLE: Code = { system: DCM, code: '110152' };
const RECIPIENT: Code = { system: PARTICIPATION, code: 'IRCP' };
/** BALP's DataSources value set: the user of a create, update or delete. */
const DATA_SOURCES: Code[] = ['AUT', 'INF', 'CST'].map((code) => ({ system: PARTICIPATION, code }));

interface ProfileRules {
  readonly subtypes: readonly string[];
  readonly action: string;
  readonly client: Code;
  readonly server: Code;
  readonly users: readonly Code[];
  /** `data` (1..1, role from RestObjectRoles) or `query` (1..1, role 24). */
  readonly object: 'data' | 'query';
}

/** Per profile: `subtype[any…]`, `action`, `agent[client|server|user].type`, and the object slice. */
export const BALP: Readonly<Record<Family, ProfileRules>> = {
  Create: {
    subtypes: ['create'],
    action: 'C',
    client: SOURCE_ROLE,
    server: DESTINATION_ROLE,
    users: DATA_SOURCES,
    object: 'data',
  },
  // Read flows the other way: the server is the Source Role, the client the Destination.
  Read: {
    subtypes: ['read', 'vread'],
    action: 'R',
    client: DESTINATION_ROLE,
    server: SOURCE_ROLE,
    users: [RECIPIENT],
    object: 'data',
  },
  Update: {
    subtypes: ['update', 'patch'],
    action: 'U',
    client: SOURCE_ROLE,
    server: DESTINATION_ROLE,
    users: DATA_SOURCES,
    object: 'data',
  },
  Delete: {
    subtypes: ['delete'],
    action: 'D',
    client: { system: DCM, code: '110150' },
    server: {
      system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
      code: 'custodian',
    },
    users: DATA_SOURCES,
    object: 'data',
  },
  Query: {
    subtypes: ['search', 'search-type', 'search-system'],
    action: 'E',
    client: SOURCE_ROLE,
    server: DESTINATION_ROLE,
    users: [RECIPIENT],
    object: 'query',
  },
};

type Json = Record<string, unknown>;
const codings = (value: unknown): Code[] =>
  ((value as { coding?: Code[] } | undefined)?.coding ?? []) as Code[];
const is = (coding: Code | undefined, expected: Code) =>
  coding?.system === expected.system && coding.code === expected.code;
const typed = (items: Json[], expected: Code, field = 'type') =>
  items.filter((item) => {
    const value = item[field] as Code | { coding?: Code[] } | undefined;
    return 'coding' in (value ?? {})
      ? codings(value).some((c) => is(c, expected))
      : is(value as Code, expected);
  });

/** Checks `event` against R4's AuditEvent; throws with the validator's message when it is not valid. */
export function assertValidR4(event: Json): void {
  ensureDefinitionsIndexed();
  assert.doesNotThrow(() => validateResource(event as unknown as Resource), 'a valid R4 AuditEvent');
}

/**
 * Checks the event element by element against `IHE.BasicAudit.<family>` or, with `patient`,
 * `IHE.BasicAudit.Patient<family>`, including `meta.profile`.
 */
export function assertBalp(event: Json, family: Family, patient: boolean): void {
  const rules = BALP[family];
  const profile = `https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.${patient ? 'Patient' : ''}${family}`;
  assert.deepEqual((event['meta'] as Json | undefined)?.['profile'], [profile], 'meta.profile');
  assertValidR4(event);
  // type = audit-event-type#rest; subtype 1..*, one from the profile's interactions.
  const rest = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' };
  assert.ok(is(event['type'] as Code, rest), 'type = audit-event-type#rest');
  const subtypes = (event['subtype'] as Code[]).filter(
    (c) => c.system === 'http://hl7.org/fhir/restful-interaction' && rules.subtypes.includes(c.code),
  );
  assert.equal(subtypes.length, 1, 'subtype[any…] 1..1');
  assert.equal(event['action'], rules.action, 'action');
  assert.equal(typeof event['recorded'], 'string', 'recorded 1..1');
  assert.equal(event['outcome'], '0', 'outcome = Success');

  const agents = event['agent'] as Json[];
  assert.ok(agents.length >= 2, 'agent 2..*');
  const [client] = typed(agents, rules.client);
  assert.equal(typed(agents, rules.client).length, 1, 'agent[client] 1..1');
  assert.ok(client!['who'], 'agent[client].who 1..1');
  assert.ok((client!['network'] as Json | undefined)?.['address'], 'agent[client].network 1..1');
  assert.equal(client!['media'], undefined, 'agent[client].media 0..0');
  const servers = typed(agents, rules.server);
  assert.equal(servers.length, 1, 'agent[server] 1..1');
  assert.ok(servers[0]!['who'], 'agent[server].who 1..1');
  assert.ok((servers[0]!['network'] as Json | undefined)?.['address'], 'agent[server].network 1..1');
  assert.equal(servers[0]!['media'], undefined, 'agent[server].media 0..0');
  const users = agents.filter((agent) => rules.users.some((code) => typed([agent], code).length === 1));
  assert.ok(users.length <= 1, 'agent[user] 0..1');
  for (const user of users) {
    assert.ok(user['who'], 'agent[user].who 1..1');
    assert.equal(user['requestor'], true, 'agent[user].requestor = true');
    assert.equal(user['network'], undefined, 'agent[user].network 0..0');
    assert.equal(user['media'], undefined, 'agent[user].media 0..0');
  }

  const entities = event['entity'] as Json[];
  const transactions = typed(entities, {
    system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType',
    code: 'XrequestId',
  });
  assert.ok(transactions.length <= 1, 'entity[transaction] 0..1');
  for (const entity of transactions) {
    const value = ((entity['what'] as Json)['identifier'] as Json)['value'];
    assert.equal(typeof value, 'string', 'entity[transaction].what.identifier.value 1..1');
  }
  const systemObjects = typed(entities, { system: ENTITY_TYPE, code: '2' });
  if (rules.object === 'data') {
    const data = systemObjects.filter((e) =>
      ['4', '3', '20'].some((code) => is(e['role'] as Code, { system: OBJECT_ROLE, code })),
    );
    assert.equal(data.length, 1, 'entity[data] 1..1');
    assert.ok(data[0]!['what'], 'entity[data].what 1..1');
  } else {
    const queries = systemObjects.filter((e) => is(e['role'] as Code, { system: OBJECT_ROLE, code: '24' }));
    assert.equal(queries.length, 1, 'entity[query] 1..1');
    const query = queries[0]!;
    assert.equal(query['what'], undefined, 'entity[query].what 0..0');
    assert.equal(query['lifecycle'], undefined, 'entity[query].lifecycle 0..0');
    assert.equal(query['detail'], undefined, 'entity[query].detail 0..0');
    assert.match(String(query['query']), /^[A-Za-z0-9+/]+=*$/, 'entity[query].query 1..1, base64Binary');
  }
  const patients = typed(entities, { system: ENTITY_TYPE, code: '1' }).filter((e) =>
    is(e['role'] as Code, { system: OBJECT_ROLE, code: '1' }),
  );
  if (patient) {
    assert.equal(patients.length, 1, 'entity[patient] 1..1');
    const what = patients[0]!['what'] as Json;
    const isPatient =
      /^Patient\/[^/]+(\/_history\/[^/]+)?$/.test(String(what['reference'] ?? '')) ||
      what['type'] === 'Patient';
    assert.ok(isPatient, 'entity[patient].what only Reference(Patient)');
  }
}

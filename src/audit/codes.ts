/**
 * The codes an AuditEvent is written with: FHIR R4 terminology and the IHE Basic Audit Log
 * Patterns (BALP, https://profiles.ihe.net/ITI/BALP/) profiles and code systems.
 */

export interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
}

const coding = (system: string, code: string, display: string): Coding => ({ system, code, display });

const BALP = 'https://profiles.ihe.net/ITI/BALP';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

/** AuditEvent.type of every event: a RESTful operation. */
export const REST_EVENT = coding(
  'http://terminology.hl7.org/CodeSystem/audit-event-type',
  'rest',
  'Restful Operation',
);

/** AuditEvent.subtype: the R4 restful-interaction code (http.html). */
export const restfulInteraction = (code: string): Coding =>
  coding('http://hl7.org/fhir/restful-interaction', code, code);

/** The BALP profiles, by the name after `IHE.BasicAudit.`. */
export type BalpProfile =
  | 'Create'
  | 'PatientCreate'
  | 'Read'
  | 'PatientRead'
  | 'Update'
  | 'PatientUpdate'
  | 'Delete'
  | 'PatientDelete'
  | 'Query'
  | 'PatientQuery';

export const balpProfileUrl = (profile: BalpProfile): string =>
  `${BALP}/StructureDefinition/IHE.BasicAudit.${profile}`;

/** Agent types (AuditEvent.agent.type). */
export const AGENT = {
  source: coding(DCM, '110153', 'Source Role ID'),
  destination: coding(DCM, '110152', 'Destination Role ID'),
  application: coding(DCM, '110150', 'Application'),
  custodian: coding(
    'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
    'custodian',
    'Custodian',
  ),
  recipient: coding(PARTICIPATION, 'IRCP', 'information recipient'),
  author: coding(PARTICIPATION, 'AUT', 'author (originator)'),
} as const;

/** AuditEvent.agent.network.type (network-type). */
export const NETWORK = { ipAddress: '2', uri: '5' } as const;

/** AuditEvent.source.type: the gateway records as an application server. */
export const APPLICATION_SERVER = coding(
  'http://terminology.hl7.org/CodeSystem/security-source-type',
  '4',
  'Application Server',
);

/** Entity types and roles (AuditEvent.entity.type / .role). */
export const ENTITY = {
  requestId: coding(
    `${BALP}/CodeSystem/BasicAuditEntityType`,
    'XrequestId',
    'transport specific unique identifier where http X-Request-Id is used',
  ),
  person: coding(ENTITY_TYPE, '1', 'Person'),
  systemObject: coding(ENTITY_TYPE, '2', 'System Object'),
  patientRole: coding(OBJECT_ROLE, '1', 'Patient'),
  domainResourceRole: coding(OBJECT_ROLE, '4', 'Domain Resource'),
  queryRole: coding(OBJECT_ROLE, '24', 'Query'),
} as const;

/** AuditEvent.outcome (audit-event-outcome): 4 is "often an HTTP 400", 8 "often an HTTP 500". */
export const OUTCOME = { success: '0', minorFailure: '4', seriousFailure: '8' } as const;

/**
 * Identifier systems for a resource named as `Type/id` where a reference could not resolve: one
 * the interaction deleted (the Java gateway's system, kept so existing queries still find them),
 * and one a failed or refused request named.
 */
export const DELETED_SYSTEM = 'http://fhir-info-gateway/deleted';
export const REQUESTED_SYSTEM = 'http://fhir-info-gateway/requested';

/** BALP's prefix for a JWT ID recorded in agent.policy (IHE.BasicAudit.OAUTHaccessTokenUse.Minimal). */
export const JTI_PREFIX = 'urn:ietf:params:oauth:jti:';

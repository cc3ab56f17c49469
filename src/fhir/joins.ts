/**
 * Joins: every way a request can return or probe resources of other types than its own, and the
 * types each one reaches, so a checker can require a role for each of them (issue 8, "joins need
 * roles"). A checker that grants the request's own type and every type named here has granted
 * everything the request can touch; when the reach cannot be named (`unbounded`), it must refuse.
 *
 * Returned beyond the request's own type (`types`):
 * - `_include[:iterate|:recurse]=Source:param[:Target]`: the target types of Source's reference
 *   search parameter (from the R4 definitions), or Target alone. `:iterate` widens nothing: every
 *   value names its own source, so the union over all values bounds every round.
 * - `_revinclude[:iterate|:recurse]=Source:param[:Target]` (also `Source:*`): Source.
 * - `_type=A,B` (system search): A, B.
 * - operations, decided one by one:
 *   - `$meta`, `$meta-add`, `$meta-delete`, `$validate`, `$expunge`, `$diff`, `$lastn`, `$match` and
 *     the terminology operations (`$expand`, `$lookup`, `$validate-code`, `$translate`,
 *     `$subsumes`): nothing beyond the own type (plus Parameters/OperationOutcome, which describe
 *     the answer itself);
 *   - anything else is unbounded: `$graphql` and `$graph` follow any reference, `$document` and
 *     `$summary` assemble whatever a Composition's sections reference, `$everything` returns the
 *     compartment *and every resource its members reference* (R4 patient-operation-everything;
 *     HAPI and the test server do so), which through List.item, Provenance.target and the like
 *     reaches 145 of the 146 R4 types, `$export` returns every type, and an operation we do not
 *     know may return anything.
 *
 * Searched without being returned (`probes`): the answer tells which primary resources match data
 * of these types, an oracle on them.
 * - `_has:Type:ref:param` (nested `_has` too): Type, and what its `param` reaches in turn.
 * - chains `subject.name`, `subject:Patient.name`, `subject.organization.name` (also in `_sort`):
 *   the target types of each link.
 * - `_list`: List.
 * - the same params inside an `If-None-Exist` header (a conditional create searches with them).
 * - conditional references in a create, update or patch body (`"reference": "Patient?family=x"`,
 *   http.html#trules; HAPI resolves them in single writes too): the type searched, and what the
 *   reference's own params reach. The server resolves them with a search the gateway never sees,
 *   so a checker that narrows searches must refuse them instead (`searchReferences`).
 *
 * Unbounded: `*` in `_include` (`*`, `Source:*`) or as a `_revinclude` source, a reference parameter
 * whose definition names no target, an unknown parameter or type in a join, `_contained` (other than
 * `false`) and `_containedType` (the containers can be of any type), `_filter` and `_query` (their
 * expressions are not parsed here), and the operations above.
 *
 * A compartment search (`Patient/1/Observation`) is not a join: its owner is named by the request
 * itself (FhirRequest.compartment).
 */
import { JSON_MEDIA_TYPES, MediaType, XML_MEDIA_TYPES, utf8Text } from './body.js';
import { referenceTargets } from './definitions.js';
import { parseQueryString } from './query-string.js';
import { memoOnRequest } from './request-memo.js';
import type { FhirRequest } from './request.js';
import { isResourceType } from './resource-types.js';
import { parseXml, type XmlNode } from './xml.js';

export interface JoinReach {
  /** Types the answer can carry beyond the request's own type. */
  readonly types: ReadonlySet<string>;
  /** Types whose data selects the answer without being returned (`_has`, chains, `_list`). */
  readonly probes: ReadonlySet<string>;
  /** True when the request can reach types that cannot be named: a checker must refuse it. */
  readonly unbounded: boolean;
  /** What made it unbounded, as the client wrote it (`_include=*`, `$graphql`); empty when bounded. */
  readonly unboundedBy: readonly string[];
  /** For each type in `types` or `probes`, the first param or operation that reaches it. */
  readonly via: ReadonlyMap<string, string>;
}

/** Operations whose answer carries no resource of another type (R4 spec and HAPI). */
const OWN_TYPE_OPERATIONS: ReadonlySet<string> = new Set([
  'meta',
  'meta-add',
  'meta-delete',
  'validate',
  'expunge',
  'diff',
  'lastn',
  'match',
  'expand',
  'lookup',
  'validate-code',
  'translate',
  'subsumes',
]);

const INCLUDE_NAMES: ReadonlySet<string> = new Set(['_include', '_include:iterate', '_include:recurse']);
const REVINCLUDE_NAMES: ReadonlySet<string> = new Set([
  '_revinclude',
  '_revinclude:iterate',
  '_revinclude:recurse',
]);

const NONE: JoinReach = Object.freeze({
  types: new Set<string>(),
  probes: new Set<string>(),
  unbounded: false,
  unboundedBy: [],
  via: new Map<string, string>(),
});

/**
 * Everything `req` can reach beyond its own type.
 * @example joinReach(parse('GET', '/Patient?_id=1&_revinclude=Observation:subject'))
 *   // → { types: {Observation}, probes: {}, unbounded: false, … }
 * @example joinReach(parse('GET', '/Observation?subject:Patient.name=x')).probes // → {Patient}
 */
export function joinReach(req: FhirRequest): JoinReach {
  if (plainRequest(req)) return NONE;
  // Asked by every checker stage of a request (roles, then data access): computed once.
  return memoOnRequest(req, REACH, () => computeReach(req));
}

const REACH = Symbol('join reach');

/**
 * Params known to reach nothing beyond the searched type, whatever their value. Anything else
 * (joins, chains, `_has`, `_type`, `_sort`, unknown `_` params) goes through computeReach.
 */
const PLAIN_CONTROL_PARAMS: ReadonlySet<string> = new Set([
  '_id',
  '_lastUpdated',
  '_tag',
  '_security',
  '_profile',
  '_count',
  '_summary',
  '_elements',
  '_total',
  '_format',
  '_pretty',
  '_getpages',
  '_getpagesoffset',
  '_bundletype',
  '_page_token',
  '_offset',
]);

/** The common case, answered without a walk or a memo: no operation, no body, plain params. */
function plainRequest(req: FhirRequest): boolean {
  if (req.operation !== undefined || req.body !== undefined || req.headers['if-none-exist'] !== undefined) {
    return false;
  }
  for (const { name } of req.query) {
    if (name.startsWith('_') ? !PLAIN_CONTROL_PARAMS.has(name) : name.includes('.')) return false;
  }
  return true;
}

function computeReach(req: FhirRequest): JoinReach {
  const reach = new ReachBuilder(req.resourceType);
  if (req.operation !== undefined) operationReach(req, reach);
  const bases = req.resourceType === undefined ? [] : [req.resourceType];
  for (const param of req.query) queryParamReach(param.name, param.value, bases, reach);
  const ifNoneExist = req.headers['if-none-exist'];
  if (ifNoneExist !== undefined) headerReach(ifNoneExist, bases, reach);
  for (const reference of bodySearchReferences(req)) conditionalReferenceReach(reference, reach);
  return reach.build();
}

/**
 * The references in a JSON value that are searches (`Patient?identifier=x|1`, also as an absolute
 * URL): every string `reference` member, at any depth (contained resources too), holding a `?`.
 * @example searchReferences({ subject: { reference: 'Patient?family=x' } }) // → ['Patient?family=x']
 */
export function searchReferences(value: unknown): string[] {
  const found: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null) continue;
    if (Array.isArray(current)) {
      for (const item of current) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    for (const [key, member] of Object.entries(current)) {
      if (key === 'reference' && typeof member === 'string' && member.includes('?')) found.push(member);
      else if (typeof member === 'object' && member !== null) stack.push(member);
    }
  }
  return found;
}

const BODY_WRITES: ReadonlySet<FhirRequest['interaction']> = new Set(['create', 'update', 'patch']);

/** The search references a write's body carries: JSON resources, JSON Patch values, FHIR XML. */
function bodySearchReferences(req: FhirRequest): string[] {
  const body = req.body;
  if (body === undefined || !BODY_WRITES.has(req.interaction)) return [];
  if (XML_MEDIA_TYPES.has(body.mediaType)) return xmlSearchReferences(utf8Text(body.bytes));
  if (body.mediaType === MediaType.jsonPatch) {
    const operations = body.json();
    if (!Array.isArray(operations)) return [];
    // A reference set by its own pointer (`/subject/reference`) is a bare string value.
    const bare = operations.flatMap((op: { path?: unknown; value?: unknown } | null) =>
      typeof op?.path === 'string' &&
      /(^|\/)reference$/.test(op.path) &&
      typeof op.value === 'string' &&
      op.value.includes('?')
        ? [op.value]
        : [],
    );
    return [...bare, ...searchReferences(operations)];
  }
  return JSON_MEDIA_TYPES.has(body.mediaType) ? searchReferences(body.json()) : [];
}

/**
 * `<reference value="Patient?x=1"/>` elements (any namespace prefix), XML character references
 * decoded. The parse stage has checked the body is well-formed FHIR XML; should it not parse here,
 * the answer is a reference nobody can bound.
 */
function xmlSearchReferences(xml: string): string[] {
  let nodes: XmlNode[];
  try {
    nodes = parseXml(xml);
  } catch {
    return ['?'];
  }
  const found: string[] = [];
  const stack = [...nodes];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const [name, children] of Object.entries(node)) {
      if (name === ':@' || !Array.isArray(children)) continue;
      const value = node[':@']?.value;
      if (name.replace(/^.*:/, '') === 'reference' && typeof value === 'string') {
        const decoded = decodeXmlText(value);
        if (decoded.includes('?')) found.push(decoded);
      }
      for (const child of children as XmlNode[]) stack.push(child);
    }
  }
  return found;
}

function decodeXmlText(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (whole, name: string) => {
    if (!name.startsWith('#')) return named[name] ?? whole;
    const code = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** `Type?params` (or `<base>/Type?params`): Type is searched, and whatever its params reach. */
function conditionalReferenceReach(reference: string, reach: ReachBuilder): void {
  const question = reference.indexOf('?');
  const type = reference.slice(0, question).split('/').pop() ?? '';
  const via = `the conditional reference ${reference.length > 80 ? `${reference.slice(0, 77)}...` : reference}`;
  if (!isResourceType(type)) {
    reach.unbounded(via);
    return;
  }
  reach.probes(type, via);
  let params: { name: string; value: string }[];
  try {
    params = parseQueryString(reference.slice(question + 1), 'a conditional reference');
  } catch {
    reach.unbounded(via);
    return;
  }
  for (const param of params) queryParamReach(param.name, param.value, [type], reach);
}

function operationReach(req: FhirRequest, reach: ReachBuilder): void {
  const operation = req.operation!;
  const on = req.resourceType === undefined ? `$${operation}` : `${req.resourceType}/$${operation}`;
  if (!OWN_TYPE_OPERATIONS.has(operation)) reach.unbounded(on);
}

function queryParamReach(name: string, value: string, bases: readonly string[], reach: ReachBuilder): void {
  if (INCLUDE_NAMES.has(name)) {
    for (const piece of pieces(value)) includeReach(`${name}=${piece}`, piece, reach);
  } else if (REVINCLUDE_NAMES.has(name)) {
    for (const piece of pieces(value)) revincludeReach(`${name}=${piece}`, piece, reach);
  } else if (name.startsWith('_include') || name.startsWith('_revinclude')) {
    reach.unbounded(name); // an unknown modifier: no telling what the server makes of it
  } else if (name === '_type') {
    for (const type of pieces(value)) {
      if (isResourceType(type)) reach.returns(type, `_type=${type}`);
      else reach.unbounded(`_type=${type}`);
    }
  } else if (name === '_list') {
    reach.probes('List', name);
  } else if (name === '_filter' || name === '_query' || name === '_containedType') {
    reach.unbounded(name);
  } else if (name === '_contained') {
    if (value !== 'false') reach.unbounded(`${name}=${value}`);
  } else if (name === '_sort') {
    for (const key of pieces(value)) {
      const param = key.startsWith('-') ? key.slice(1) : key;
      if (param.includes('.')) searchParamReach(param, bases, reach, `_sort=${key}`);
    }
  } else {
    searchParamReach(name, bases, reach, name);
  }
}

/** `Source:param[:Target]`: the target types of the reference parameter, or Target. */
function includeReach(via: string, spec: string, reach: ReachBuilder): void {
  const [source, code, target, ...extra] = spec.split(':');
  if (source === undefined || !isResourceType(source) || !code || code === '*' || extra.length > 0) {
    reach.unbounded(via);
    return;
  }
  if (target !== undefined) {
    if (isResourceType(target)) reach.returns(target, via);
    else reach.unbounded(via);
    return;
  }
  const targets = referenceTargets(source, code);
  if (targets === undefined || targets.any) reach.unbounded(via);
  else for (const type of targets.types) reach.returns(type, via);
}

/** `Source:param[:Target]` or `Source:*`: resources of Source that reference the matches. */
function revincludeReach(via: string, spec: string, reach: ReachBuilder): void {
  const [source, code, target, ...extra] = spec.split(':');
  const badTarget = target !== undefined && !isResourceType(target);
  if (source === undefined || !isResourceType(source) || !code || badTarget || extra.length > 0) {
    reach.unbounded(via);
    return;
  }
  reach.returns(source, via);
}

/** A search parameter of `bases`: `_has:…`, a chain, or a plain parameter (no reach). */
function searchParamReach(name: string, bases: readonly string[], reach: ReachBuilder, via: string): void {
  if (name.startsWith('_has:') || name === '_has') hasReach(name, reach, via);
  else if (name.includes('.')) chainReach(name, bases, reach, via);
}

/** `_has:Type:ref:param`: Type is searched; `param` may itself be a chain or another `_has`. */
function hasReach(name: string, reach: ReachBuilder, via: string): void {
  const [, type, ref, ...rest] = name.split(':');
  const param = rest.join(':');
  if (type === undefined || !isResourceType(type) || !ref || param === '') {
    reach.unbounded(via);
    return;
  }
  reach.probes(type, via);
  searchParamReach(param, [type], reach, via);
}

/** `ref[:Type].param`: the targets of `ref` are searched, and `param` is a parameter of theirs. */
function chainReach(name: string, bases: readonly string[], reach: ReachBuilder, via: string): void {
  const dot = name.indexOf('.');
  const [code, typed, ...extra] = name.slice(0, dot).split(':');
  const next = name.slice(dot + 1);
  if (!code || extra.length > 0 || next === '' || bases.length === 0) {
    reach.unbounded(via);
    return;
  }
  if (typed !== undefined) {
    if (!isResourceType(typed)) {
      reach.unbounded(via);
      return;
    }
    reach.probes(typed, via);
    searchParamReach(next, [typed], reach, via);
    return;
  }
  // After an untyped link the bases are several types; the link needs to exist on one of them.
  const known = bases.map((base) => referenceTargets(base, code)).filter((t) => t !== undefined);
  if (known.length === 0 || known.some((targets) => targets.any)) {
    reach.unbounded(via);
    return;
  }
  const linked = new Set(known.flatMap((targets) => (targets.any ? [] : targets.types)));
  for (const type of linked) reach.probes(type, via);
  searchParamReach(next, [...linked], reach, via);
}

function headerReach(header: string, bases: readonly string[], reach: ReachBuilder): void {
  let params: { name: string; value: string }[];
  try {
    // The request model has taken off a `?` or `Type?` prefix (parse.ts).
    params = parseQueryString(header, 'If-None-Exist');
  } catch {
    reach.unbounded('If-None-Exist');
    return;
  }
  for (const param of params) queryParamReach(param.name, param.value, bases, reach);
}

/** Comma-separated values, blanks dropped. */
function pieces(value: string): string[] {
  return value
    .split(',')
    .map((piece) => piece.trim())
    .filter((piece) => piece !== '');
}

/** Collects the reach; allocates nothing for a request without joins (the common case). */
class ReachBuilder {
  private returned: Set<string> | undefined;
  private probed: Set<string> | undefined;
  private reasons: string[] | undefined;
  private readonly firstVia = new Map<string, string>();

  constructor(private readonly ownType: string | undefined) {}

  returns(type: string, via: string): void {
    if (type === this.ownType) return;
    if (!this.returned) this.returned = new Set();
    this.returned.add(type);
    this.note(type, via);
  }

  probes(type: string, via: string): void {
    if (!this.probed) this.probed = new Set();
    this.probed.add(type);
    this.note(type, via);
  }

  unbounded(by: string): void {
    if (!this.reasons) this.reasons = [];
    this.reasons.push(by);
  }

  build(): JoinReach {
    if (!this.returned && !this.probed && !this.reasons) return NONE;
    return {
      types: this.returned ?? NONE.types,
      probes: this.probed ?? NONE.probes,
      unbounded: this.reasons !== undefined,
      unboundedBy: this.reasons ?? [],
      via: this.firstVia,
    };
  }

  private note(type: string, via: string): void {
    if (!this.firstVia.has(type)) this.firstVia.set(type, via);
  }
}

/**
 * The Patients an interaction touched, for the AuditEvent's patient entities: those its request
 * names, and those its answer names.
 *
 * An answer names a Patient with a `fullUrl` (a Patient entry of a Bundle) or a `reference`
 * anywhere in the resources it carries: a superset of the Patient compartment owners of those
 * resources. The text is scanned rather than parsed: a 20-entry searchset parses in about 25 µs,
 * a fifth of a pass-through request's CPU, and scans in a fifth of that; and a streamed answer is
 * scanned chunk by chunk, so nothing of it is held. Only references relative to the server
 * (`Patient/1`, `Patient/1/_history/2`) or under the gateway's base URL count: an absolute
 * reference elsewhere names another server's patient.
 */
import type { FhirRequest } from '../fhir/request.js';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const MARK = 'Patient/';
const HISTORY = '/_history/';
const QUOTE = 34;
const BACKSLASH = 92;
const SLASH = 47;
/**
 * Longer than any value the scanner accepts (a 2 KB prefix, the id, a version), so a value cut by
 * a chunk boundary is found whole in the next chunk.
 */
const CARRY = 4096;

/** The id in `Patient/<id>` or `Patient/<id>/_history/<v>`, relative or under `base`; else undefined. */
export function patientIdOf(value: string, base: string): string | undefined {
  let rest = value;
  if (rest.length > base.length && rest.startsWith(base) && rest.charCodeAt(base.length) === 47) {
    rest = rest.slice(base.length + 1);
  }
  if (!rest.startsWith('Patient/')) return undefined;
  const end = rest.indexOf('/', 8);
  if (end !== -1 && !rest.startsWith('/_history/', end)) return undefined;
  const id = end === -1 ? rest.slice(8) : rest.slice(8, end);
  return FHIR_ID.test(id) ? id : undefined;
}

/**
 * Collects the ids of the Patients a text names, fed whole or in chunks: the values of JSON
 * `"fullUrl"` and `"reference"` members and of XML `<fullUrl value=…>` and `<reference value=…>`
 * elements that are `Patient/<id>` (or `…/_history/<v>`), relative or under the gateway's base.
 * Found from each `Patient/` in the text, looking back at what holds it: a text names few Patients
 * but has many quotes, so this does far less work than a regular expression tried at every quote.
 */
export class PatientScanner {
  readonly ids = new Set<string>();
  private carry = '';
  private xml: boolean | undefined;
  private readonly baseSlash: string;

  constructor(base: string) {
    this.baseSlash = `${base}/`;
  }

  /** A chunk of UTF-8 bytes: ids and URLs are ASCII, so latin1 decoding (a copy) finds them. */
  push(chunk: Buffer): void {
    this.scan(this.carry + chunk.toString('latin1'), true);
  }

  /** A whole text. */
  text(text: string): void {
    this.scan(text, false);
  }

  private scan(text: string, more: boolean): void {
    // JSON unless the text opens an XML element; the answer's first non-blank byte decides.
    if (this.xml === undefined) {
      const first = /\S/.exec(text);
      if (first === null) {
        this.carry = more ? text.slice(-CARRY) : '';
        return;
      }
      this.xml = text[first.index] === '<';
    }
    let consumed = 0;
    for (let at = text.indexOf(MARK); at !== -1; at = text.indexOf(MARK, at + MARK.length)) {
      const end = this.valueAt(text, at);
      if (end === -1) {
        // Cut by the chunk's end: the carry holds it for the next chunk.
        if (more) break;
        continue;
      }
      if (end > 0) consumed = end;
    }
    this.carry = more ? text.slice(Math.max(consumed, text.length - CARRY)) : '';
  }

  /**
   * Adds the id of the value around the `Patient/` at `at` when it is one this scanner counts.
   * Returns where the value ends (after its closing quote), 0 when it is not counted, and -1 when
   * the text ends before the value does.
   */
  private valueAt(text: string, at: number): number {
    const open = text.lastIndexOf('"', at - 1);
    if (open === -1) return 0;
    const prefix = at - open - 1;
    if (prefix !== 0 && (prefix !== this.baseSlash.length || !text.startsWith(this.baseSlash, open + 1))) {
      return 0;
    }
    if (!(this.xml ? xmlValueOpens(text, open) : jsonValueOpens(text, open))) return 0;
    const idStart = at + MARK.length;
    let i = idStart;
    while (i < text.length && i - idStart <= 64 && isIdChar(text.charCodeAt(i))) i++;
    if (i === text.length) return -1;
    const length = i - idStart;
    if (length === 0 || length > 64) return 0;
    let close = i;
    if (text.charCodeAt(i) !== QUOTE) {
      if (text.length - i < HISTORY.length + 2) return -1;
      if (!text.startsWith(HISTORY, i)) return 0;
      let v = i + HISTORY.length;
      while (v < text.length && v - i - HISTORY.length <= 64 && isVersionChar(text.charCodeAt(v), this.xml === true)) v++;
      if (v === text.length) return -1;
      const version = v - i - HISTORY.length;
      if (version === 0 || version > 64 || text.charCodeAt(v) !== QUOTE) return 0;
      close = v;
    }
    this.ids.add(text.slice(idStart, i));
    return close + 1;
  }
}

function isIdChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 45 ||
    code === 46
  );
}

/** A version id as the scanner accepts it: anything up to the closing quote but `/` (and `\` in JSON). */
function isVersionChar(code: number, xml: boolean): boolean {
  return code !== QUOTE && code !== SLASH && (xml || code !== BACKSLASH);
}

/** `"fullUrl"` or `"reference"`, a colon and the opening quote at `open`, blanks allowed around the colon. */
function jsonValueOpens(text: string, open: number): boolean {
  let i = open - 1;
  while (i >= 0 && isBlank(text.charCodeAt(i))) i--;
  if (text.charCodeAt(i) !== 58) return false;
  i--;
  while (i >= 0 && isBlank(text.charCodeAt(i))) i--;
  // i is at the key's closing quote.
  const key = keyEndingAt(text, i, '"fullUrl"') ?? keyEndingAt(text, i, '"reference"');
  // A quote after a backslash is inside a string, not a key's.
  return key !== undefined && text.charCodeAt(key - 1) !== BACKSLASH;
}

/** `<fullUrl value="` or `<reference value="` (blanks before `value`) with its quote at `open`. */
function xmlValueOpens(text: string, open: number): boolean {
  if (!text.startsWith('value=', open - 6)) return false;
  let i = open - 7;
  if (!isBlank(text.charCodeAt(i))) return false;
  while (i >= 0 && isBlank(text.charCodeAt(i))) i--;
  return keyEndingAt(text, i, '<fullUrl') !== undefined || keyEndingAt(text, i, '<reference') !== undefined;
}

/** Where `key` starts when it ends at `last` (inclusive); undefined otherwise. */
function keyEndingAt(text: string, last: number, key: string): number | undefined {
  const start = last - key.length + 1;
  return start >= 0 && text.startsWith(key, start) ? start : undefined;
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/**
 * The Patients a request names: the compartment it searches, the Patient it acts on, and the
 * values of `patient`, `subject` and, searching Patients, `_id` (chains and modifiers other than
 * `:Patient` aside).
 */
export function requestedPatients(req: FhirRequest, base: string): string[] {
  const ids = new Set<string>();
  if (req.compartment?.resourceType === 'Patient') ids.add(req.compartment.id);
  if (req.resourceType === 'Patient' && req.id !== undefined) ids.add(req.id);
  for (const { name, value } of req.query) {
    const [param, modifier] = name.split(':', 2);
    if (modifier !== undefined && modifier !== 'Patient') continue;
    // Which params may name a Patient by its bare id; `subject` may name other types too.
    const bareIds =
      param === 'patient' ||
      (param === 'subject' && modifier === 'Patient') ||
      (param === '_id' && req.resourceType === 'Patient');
    if (!bareIds && param !== 'subject') continue;
    for (const part of value.split(',')) {
      const id = bareIds && FHIR_ID.test(part) ? part : patientIdOf(part, base);
      if (id !== undefined) ids.add(id);
    }
  }
  return [...ids];
}

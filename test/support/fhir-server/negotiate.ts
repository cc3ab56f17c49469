/**
 * Picks the answer's format the way HAPI does: the first `_format` value it knows wins; otherwise
 * the `Accept` entry with the highest q among the FHIR types it knows, JSON on a tie; otherwise
 * JSON (HAPI's default). Unlike HAPI, an XML request body does not make the answer XML: this server
 * refuses XML bodies anyway (415).
 */
export type Encoding = 'json' | 'xml';

const FORMATS: ReadonlyMap<string, Encoding> = new Map([
  ['json', 'json'],
  ['application/json', 'json'],
  ['application/fhir+json', 'json'],
  ['application/json+fhir', 'json'],
  ['xml', 'xml'],
  ['text/xml', 'xml'],
  ['application/xml', 'xml'],
  ['application/fhir+xml', 'xml'],
  ['application/xml+fhir', 'xml'],
]);

export function responseEncoding(params: URLSearchParams, accept: string | undefined): Encoding {
  for (const format of params.getAll('_format')) {
    const encoding = FORMATS.get(mediaType(format));
    if (encoding) return encoding;
  }
  let best: { encoding: Encoding; q: number } | undefined;
  for (const part of (accept ?? '').split(',')) {
    const [type = '', ...attrs] = part.split(';');
    const encoding = FORMATS.get(mediaType(type));
    if (!encoding) continue;
    const q = quality(attrs);
    if (!best || q > best.q || (q === best.q && encoding === 'json')) best = { encoding, q };
  }
  return best?.encoding ?? 'json';
}

/** `application/fhir xml` is what `_format=application/fhir+xml` decodes to when `+` is not escaped. */
function mediaType(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase().replace(/ /g, '+');
}

function quality(attrs: string[]): number {
  for (const attr of attrs) {
    const [key, value] = attr.split('=').map((s) => s.trim());
    if (key === 'q' && value !== undefined) {
      const q = Number.parseFloat(value);
      return Number.isNaN(q) ? 1 : Math.max(q, 0);
    }
  }
  return 1;
}

/**
 * A generic FHIR JSON → FHIR XML serializer (http://hl7.org/fhir/R4/xml.html), enough for a test
 * server answering `_format=xml`: the root element is the resourceType in the FHIR namespace,
 * primitives become `value` attributes (with their `_name` siblings' `id` and extensions), arrays
 * repeat the element, element `id` and extension `url` are attributes, nested resources (Bundle
 * entries, `contained`, Parameters) sit inside their container element, and the narrative's XHTML
 * is copied as is. Element order is the JSON's, which is the schema order for what the server stores.
 */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const FHIR_NS = 'http://hl7.org/fhir';
const XHTML_NS = 'http://www.w3.org/1999/xhtml';

export function toFhirXml(resource: object): string {
  const out: string[] = [];
  writeResource(out, resource as JsonObject, true);
  return out.join('');
}

function writeResource(out: string[], resource: JsonObject, root: boolean): void {
  const type = String(resource.resourceType);
  out.push(`<${type}${root ? ` xmlns="${FHIR_NS}"` : ''}>`);
  writeChildren(out, resource, 'resource');
  out.push(`</${type}>`);
}

type Holder = 'resource' | 'extension' | 'element';

/** The child elements of an object; what the holder writes as attributes (`id`, extension `url`) is skipped. */
function writeChildren(out: string[], object: JsonObject, holder: Holder): void {
  for (const [key, value] of Object.entries(object)) {
    if (key === 'resourceType' || key.startsWith('_')) continue;
    if (key === 'id' && holder !== 'resource') continue;
    if (key === 'url' && holder === 'extension') continue;
    writeElement(out, key, value, object[`_${key}`]);
  }
  // A primitive present only as `_name` (an id or extensions without a value).
  for (const [key, extra] of Object.entries(object)) {
    if (key.startsWith('_') && !(key.slice(1) in object)) writeElement(out, key.slice(1), undefined, extra);
  }
}

function writeElement(out: string[], name: string, value: Json | undefined, extra: Json | undefined): void {
  if (Array.isArray(value) || Array.isArray(extra)) {
    const values = Array.isArray(value) ? value : [];
    const extras = Array.isArray(extra) ? extra : [];
    for (let i = 0; i < Math.max(values.length, extras.length); i++)
      writeOne(out, name, values[i], extras[i]);
    return;
  }
  writeOne(out, name, value, extra);
}

function writeOne(out: string[], name: string, value: Json | undefined, extra: Json | undefined): void {
  if (name === 'div' && typeof value === 'string') {
    out.push(value.includes('xmlns') ? value : value.replace(/^<div/, `<div xmlns="${XHTML_NS}"`));
    return;
  }
  if (isObject(value)) {
    if (typeof value.resourceType === 'string') {
      out.push(`<${name}>`);
      writeResource(out, value, false);
      out.push(`</${name}>`);
      return;
    }
    const holder: Holder = name === 'extension' || name === 'modifierExtension' ? 'extension' : 'element';
    out.push(`<${name}${attributes(value, holder)}>`);
    writeChildren(out, value, holder);
    out.push(`</${name}>`);
    return;
  }
  // A primitive: its value is an attribute; `_name` may add an id and extensions.
  const meta = isObject(extra) ? extra : {};
  const valueAttr = value === undefined || value === null ? '' : ` value="${escapeXml(String(value))}"`;
  const attrs = `${attributes(meta, 'element')}${valueAttr}`;
  const hasExtensions = meta.extension !== undefined || meta.modifierExtension !== undefined;
  if (!hasExtensions) {
    if (attrs !== '') out.push(`<${name}${attrs}/>`);
    return;
  }
  out.push(`<${name}${attrs}>`);
  writeChildren(
    out,
    { extension: meta.extension ?? null, modifierExtension: meta.modifierExtension ?? null },
    'element',
  );
  out.push(`</${name}>`);
}

function attributes(object: JsonObject, holder: Holder): string {
  let attrs = '';
  if (typeof object.id === 'string') attrs += ` id="${escapeXml(object.id)}"`;
  if (holder === 'extension' && typeof object.url === 'string') attrs += ` url="${escapeXml(object.url)}"`;
  return attrs;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

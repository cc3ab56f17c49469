/**
 * What a create or update body claims to be: its resource type and id, read from JSON or, with a
 * well-kept XML parser, from FHIR XML. A body of another type than the URL names, or an update
 * whose body id differs from the URL id, would have the backend store something other than what
 * was authorized (http.html#update: the ids SHALL match; HAPI refuses a mismatch with 400).
 */
import { XMLValidator } from 'fast-xml-parser';
import { XML_MEDIA_TYPES, utf8Text } from './body.js';
import { badRequest } from './errors.js';
import type { RequestBody } from './request.js';
import { quoted } from './url-text.js';
import { parseXml, type XmlNode } from './xml.js';

export interface ResourceIdentity {
  readonly resourceType: string;
  readonly id?: string;
}

/**
 * Checks that `body` is a `resourceType` resource and, when `id` is given, that its id is absent
 * or equal to it.
 * @throws GatewayError 400 naming what the body claims and what the URL names.
 */
export function checkResourceBody(body: RequestBody, resourceType: string, id: string | undefined): void {
  const claimed = XML_MEDIA_TYPES.has(body.mediaType) ? xmlIdentity(body) : jsonIdentity(body);
  if (claimed.resourceType !== resourceType) {
    throw badRequest(
      `The body's resourceType is ${quoted(claimed.resourceType)}, but the URL names ${resourceType}`,
      'body_type_mismatch',
    );
  }
  if (id !== undefined && claimed.id !== undefined && claimed.id !== id) {
    throw badRequest(
      `The body's id ${quoted(claimed.id)} differs from the id in the URL ${quoted(id)}`,
      'body_id_mismatch',
    );
  }
}

function jsonIdentity(body: RequestBody): ResourceIdentity {
  const value = body.json();
  const resource = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  const { resourceType, id } = resource as { resourceType?: unknown; id?: unknown };
  if (typeof resourceType !== 'string')
    throw badRequest('The body is not a FHIR resource (no resourceType)', 'not_a_resource');
  if (id !== undefined && typeof id !== 'string')
    throw badRequest("The body's id must be a string", 'not_a_resource');
  return id === undefined ? { resourceType } : { resourceType, id };
}

function xmlIdentity(body: RequestBody): ResourceIdentity {
  const text = utf8Text(body.bytes);
  // FHIR XML forbids DTDs (xml.html), and entity declarations are how XML bombs work.
  if (/<!DOCTYPE/i.test(text)) throw badRequest('FHIR XML must not carry a DOCTYPE', 'invalid_xml');
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw badRequest(
      `The request body is not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`,
      'invalid_xml',
    );
  }
  let parsed: XmlNode[];
  try {
    parsed = parseXml(text);
  } catch (error) {
    // fast-xml-parser's own limits (nesting depth, entity expansion) throw plain errors.
    throw badRequest(
      `The XML body cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      'invalid_xml',
    );
  }
  const roots = parsed.filter((node) => !('#text' in node));
  const root = roots[0];
  const name = root ? Object.keys(root).find((key) => key !== ':@') : undefined;
  if (roots.length !== 1 || name === undefined)
    throw badRequest('The XML body has no single root element', 'invalid_xml');
  const children = (root![name] ?? []) as XmlNode[];
  const idNode = children.find((child) => 'id' in child);
  const id = idNode?.[':@']?.value;
  return typeof id === 'string' ? { resourceType: name, id } : { resourceType: name };
}

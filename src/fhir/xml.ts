/**
 * FHIR XML read with fast-xml-parser, the one configuration every reader of request bodies uses:
 * attributes kept (FHIR puts values in `value="…"`), document order kept, no entity processing.
 */
import { XMLParser } from 'fast-xml-parser';

/** One element: `{ [name]: children, ':@': attributes }`, as fast-xml-parser's preserveOrder gives. */
export type XmlNode = Record<string, unknown> & { ':@'?: Record<string, unknown> };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false,
  preserveOrder: true,
});

/** The document's top-level nodes. @throws Error from fast-xml-parser's own limits (depth, entities). */
export function parseXml(text: string): XmlNode[] {
  return parser.parse(text) as XmlNode[];
}

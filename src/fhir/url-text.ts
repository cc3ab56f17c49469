/**
 * Checks and decoding for text taken from a request URL. Used for path segments, query strings and
 * form bodies alike, so all three refuse the same things the same way.
 */

import { badRequest } from './errors.js';

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Percent-decodes one URL component. A malformed escape (`%zz`, `%e9` alone) and a control
 * character after decoding (`%00`, `%0A`) are refused with 400; `where` names the place for the message.
 */
export function decodeComponent(text: string, where: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    throw badRequest(`Malformed percent-encoding in ${where}`, 'malformed_percent_encoding');
  }
  if (hasControlCharacter(decoded)) {
    throw badRequest(`Control characters are not allowed in ${where}`, 'control_character');
  }
  return decoded;
}

/** A client-supplied fragment for an error message: quoted, and cut short so messages stay small. */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

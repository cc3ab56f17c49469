/**
 * The raw request target, checked and split: characters, then path segments. Anything a proxy and a
 * FHIR server could read differently (dot segments, encoded separators, empty segments, backslashes)
 * is refused here, so the path the checkers see is the path the backend will see.
 */

import { badRequest } from './errors.js';
import { decodeComponent, quoted } from './url-text.js';

/** The longest FHIR path below the base: `Type/id/_history/vid`. */
const MAX_SEGMENTS = 4;

/**
 * Refuses characters that have no business in a request target: control characters, a backslash
 * (some servers treat it as `/`), `#` (fragments are never sent), spaces and raw non-ASCII (they
 * must arrive percent-encoded; Node hands raw bytes over as Latin-1, which would misread UTF-8).
 */
export function checkTargetCharacters(target: string): void {
  for (let i = 0; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) {
      throw badRequest('Control characters are not allowed in the request URL', 'control_character');
    }
    if (code === 0x5c) throw badRequest('A backslash is not allowed in the request URL', 'backslash');
    if (code === 0x23) throw badRequest('A "#" must be percent-encoded in the request URL', 'fragment');
    if (code === 0x20 || code > 0x7e) {
      throw badRequest(
        'Spaces and non-ASCII characters must be percent-encoded in the request URL',
        'raw_character',
      );
    }
  }
}

/** Splits a target into its path part and its raw query string (`''` when there is no `?`). */
export function splitTarget(target: string): { path: string; rawQuery: string } {
  const question = target.indexOf('?');
  if (question < 0) return { path: target, rawQuery: '' };
  return { path: target.slice(0, question), rawQuery: target.slice(question + 1) };
}

/**
 * Decoded path segments below the base. `''` and `/` are the base itself (no segments); any other
 * path must start with `/`, and a trailing `/` counts as an empty segment.
 */
export function pathSegments(path: string): string[] {
  if (path === '' || path === '/') return [];
  if (!path.startsWith('/'))
    throw badRequest(`The request path must start with "/" (${quoted(path)})`, 'invalid_path');
  if (/%(2f|5c)/i.test(path)) {
    throw badRequest(
      'Percent-encoded "/" or "\\" (%2F, %5C) is not allowed in the request path',
      'encoded_separator',
    );
  }
  const raw = path.slice(1).split('/');
  raw.forEach((segment, index) => {
    if (segment !== '') return;
    throw index === raw.length - 1
      ? badRequest('A trailing "/" is not allowed in the request path', 'empty_segment')
      : badRequest('Empty path segments ("//") are not allowed in the request path', 'empty_segment');
  });
  const segments = raw.map((segment) => {
    const decoded = decodeComponent(segment, `path segment ${quoted(segment)}`);
    if (decoded === '.' || decoded === '..') {
      throw badRequest('"." and ".." segments are not allowed in the request path', 'dot_segment');
    }
    return decoded;
  });
  if (segments.length > MAX_SEGMENTS) {
    throw badRequest(
      `Too many path segments (${segments.length}; a FHIR path has at most ${MAX_SEGMENTS})`,
      'too_many_segments',
    );
  }
  return segments;
}

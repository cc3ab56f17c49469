/**
 * A bound on the nesting depth of client JSON, checked on the bytes before JSON.parse. FHIR
 * resources are shallow (a deeply nested Questionnaire with its Bundle entry stays under 50 levels),
 * while a few kilobytes of `[[[[…` build a value that JSON.stringify and every recursive walk over it
 * overflow the stack on (issue 8, case U6: a batch entry nested 20,000 deep answered 500).
 */

/** Deepest nesting of arrays and objects accepted in a request body. */
export const MAX_JSON_DEPTH = 100;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * True when `[` and `{` outside strings nest deeper than `max`. Works on UTF-8 bytes: no byte of a
 * multi-byte character is ASCII, so brackets and quotes are never misread. Malformed JSON is left
 * for JSON.parse to refuse.
 */
export function exceedsJsonDepth(bytes: Uint8Array, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) i = closingQuote(bytes, i);
    else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) depth--;
  }
  return false;
}

/** Index of the quote ending the string opened at `start` (or the end of input). */
function closingQuote(bytes: Uint8Array, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote < 0) return bytes.length;
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

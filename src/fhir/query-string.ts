/**
 * Parsing of query strings and form bodies into ordered, decoded params. Both follow the
 * application/x-www-form-urlencoded rules: `&` separates params, the first `=` splits name from
 * value, `+` is a space, then percent-decoding. Order and repetition are kept as sent.
 */

import { badRequest } from './errors.js';
import type { QueryParam } from './request.js';
import { decodeComponent, quoted } from './url-text.js';

/**
 * Parses `a=1&a=2&b` into `[{a,1},{a,2},{b,''}]`. Empty pieces (a lone `?`, a trailing `&`) carry
 * nothing and are skipped; an empty name (`=x`) is refused, since no server can give it a meaning.
 * `where` is `query` or `form body`, for error messages.
 */
export function parseQueryString(raw: string, where: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (raw === '') return params;
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const equals = piece.indexOf('=');
    const rawName = equals < 0 ? piece : piece.slice(0, equals);
    const rawValue = equals < 0 ? '' : piece.slice(equals + 1);
    if (rawName === '')
      throw badRequest(`Empty parameter name in ${where} (${quoted(piece)})`, 'empty_param_name');
    const name = decodeComponent(plusAsSpace(rawName), `${where} parameter name ${quoted(rawName)}`);
    if (name === '')
      throw badRequest(`Empty parameter name in ${where} (${quoted(piece)})`, 'empty_param_name');
    const value = decodeComponent(plusAsSpace(rawValue), `${where} parameter ${quoted(name)}`);
    params.push({ name, value });
  }
  return params;
}

function plusAsSpace(text: string): string {
  return text.replaceAll('+', ' ');
}

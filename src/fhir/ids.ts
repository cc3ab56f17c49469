/**
 * The names a FHIR request path may carry besides resource types: logical ids, version ids and
 * operation names. Anything else in those positions is refused by the parser.
 */

/** FHIR `id` datatype (datatypes.html#id): 1 to 64 of letters, digits, `-` and `.`. */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Operation names as defined by OperationDefinition.code, without the `$` (letters, digits, `-`, `_`). */
const OPERATION_NAME = /^[A-Za-z][A-Za-z0-9\-_]{0,63}$/;

export function isFhirId(text: string): boolean {
  return FHIR_ID.test(text);
}

export function isOperationName(name: string): boolean {
  return OPERATION_NAME.test(name);
}

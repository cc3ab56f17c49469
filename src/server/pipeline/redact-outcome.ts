/**
 * Error answers of the FHIR server name resources in their text: HAPI's referential-integrity 409
 * says "First reference found was resource Observation/o-x9", a caller may not see o-x9 (RT9).
 * When an answer is checked, the OperationOutcome keeps its status, codes and wording, but every
 * `Type/id` other than the request's own target is blanked. The gateway cannot know whether the
 * caller may see the named resources, so it names none.
 */
import { isResourceType } from '../../fhir/resource-types.js';

const REFERENCE = /\b([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})/g;
const HIDDEN_ID = '[id withheld]';

type Issue = {
  diagnostics?: unknown;
  details?: { text?: unknown };
  expression?: unknown;
  location?: unknown;
  [field: string]: unknown;
};

/** The outcome with references blanked; the same object when it names nothing but `own`. */
export function redactOutcome(outcome: unknown, own: string | undefined): unknown {
  const issues = (outcome as { resourceType?: unknown; issue?: unknown } | null)?.issue;
  if ((outcome as { resourceType?: unknown } | null)?.resourceType !== 'OperationOutcome') return outcome;
  if (!Array.isArray(issues)) return outcome;
  const redact = (text: unknown): unknown =>
    typeof text !== 'string'
      ? text
      : text.replace(REFERENCE, (match, type: string) =>
          match === own || !isResourceType(type) ? match : `${type}/${HIDDEN_ID}`,
        );
  const issue = issues.map((item: Issue) => {
    if (typeof item !== 'object' || item === null) return item;
    return {
      ...item,
      ...(item.diagnostics === undefined ? {} : { diagnostics: redact(item.diagnostics) }),
      ...(item.details?.text === undefined
        ? {}
        : { details: { ...item.details, text: redact(item.details.text) } }),
      ...(Array.isArray(item.expression) ? { expression: item.expression.map(redact) } : {}),
      ...(Array.isArray(item.location) ? { location: item.location.map(redact) } : {}),
    };
  });
  return { ...(outcome as object), issue };
}

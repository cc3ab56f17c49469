/**
 * Which requests and resources the data access checker leaves alone. The rule:
 *
 * - Composition, Binary and ImplementationGuide are always exempt: they are the app configuration,
 *   carry no user tags, and the app fetches them before it knows its user.
 * - Otherwise the skip-list decides, matched as upstream matches a GET search on the type path:
 *   a type-level search is matched with its own params (a POST `_search` counts as the GET search it
 *   is); a request on one instance (read, vread, history, operation) as the equivalent search
 *   `Type?_id=<id>`; a type-level history or operation as a search on the bare type.
 * - An `_include`d resource, a Bundle entry's resource and the like: as `Type?_id=<id>`.
 *
 * Exemptions cover reads only (issue 8, W7, W12): a write is never exempt; writes.ts judges
 * configuration writes. And a stored Bundle, Parameters or OperationOutcome read by id obeys the
 * tag rule like any resource (R6); those types pass only as parts of an answer.
 */
import type { FhirRequest } from '../../fhir/request.js';
import type { SkipList } from './skip-list.js';

export const ALWAYS_EXEMPT_TYPES: ReadonlySet<string> = new Set([
  'Composition',
  'Binary',
  'ImplementationGuide',
]);

const WRITES: ReadonlySet<FhirRequest['interaction']> = new Set(['create', 'update', 'patch', 'delete']);

/**
 * A message about the answer, never stored data. Bundle and Parameters answers are containers the
 * answer check opens itself (src/server/pipeline/answer-check.ts); a stored Bundle or Parameters
 * found inside an answer is data, held to the tag rule like any resource (RT4).
 */
const MESSAGE_TYPES: ReadonlySet<string> = new Set(['OperationOutcome']);

export class Exemptions {
  constructor(private readonly skipList: SkipList) {}

  /** True when `req`, a read, is not narrowed or checked at all; never for a write. */
  request(req: FhirRequest): boolean {
    const type = req.resourceType;
    if (type === undefined || WRITES.has(req.interaction)) return false;
    if (ALWAYS_EXEMPT_TYPES.has(type)) return true;
    switch (req.interaction) {
      case 'search-type':
      case 'search-compartment':
        return this.skipList.matches({ path: type, method: 'GET', query: req.query });
      case 'history-type':
      case 'operation-type':
        return this.type(type);
      default:
        return req.id !== undefined ? this.stored(type, req.id) : false;
    }
  }

  /** True when any search on the bare type path is exempt. */
  type(type: string): boolean {
    return ALWAYS_EXEMPT_TYPES.has(type) || this.skipList.matches({ path: type, method: 'GET', query: [] });
  }

  /** True when the resource `type/id`, as part of an answer, may be seen without a tag of the user's scope. */
  instance(type: string, id: string | undefined): boolean {
    return MESSAGE_TYPES.has(type) || this.stored(type, id);
  }

  /** True when the stored resource `type/id`, read by id, may be seen without a tag of the user's scope. */
  stored(type: string, id: string | undefined): boolean {
    if (ALWAYS_EXEMPT_TYPES.has(type)) return true;
    return this.skipList.matches({
      path: type,
      method: 'GET',
      query: id === undefined ? [] : [{ name: '_id', value: id }],
    });
  }
}

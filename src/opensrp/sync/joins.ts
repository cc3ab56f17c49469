/**
 * Joins for ANDROID_CLIENT users. The `_tag` narrowing applies to the searched type only: the
 * resources a `_has` or a chain searches are never narrowed, so such a search tells which in-scope
 * resources relate to out-of-scope data (`Patient?_has:Observation:subject:_tag=<L9>`). It is
 * refused unless every searched type is exempt (app configuration, or a whole type on the
 * skip-list). Returned joins (`_include`, `_revinclude`, operations) are not refused here: the role
 * rules bound their types and the included entries are held to the user's scope after the answer.
 */
import { type DeniedDecision, denied } from '../../access/contract.js';
import { joinReach } from '../../fhir/joins.js';
import type { FhirRequest } from '../../fhir/request.js';
import type { Exemptions } from './exempt.js';

/** The refusal of a request that searches a non-exempt type through a `_has` or chain, if it does. */
export function unnarrowableJoin(req: FhirRequest, exempt: Exemptions): DeniedDecision | undefined {
  const { probes, via } = joinReach(req);
  const searched = [...probes].filter((type) => !exempt.type(type));
  if (searched.length === 0) return undefined;
  const how = searched.map((type) => `${type} by ${via.get(type) ?? 'a join'}`).join(', ');
  return denied(
    `A search through other resources cannot be narrowed to the user's assignment; ANDROID_CLIENT users cannot search ${how}`,
  );
}

import { jsonBody } from '../fhir/body.js';
import { GatewayError } from '../fhir/errors.js';
import type { FhirRequest } from '../fhir/request.js';
import type {
  AccessChecker,
  AccessDecision,
  BackendResponse,
  GrantedDecision,
  RequestMutation,
} from './contract.js';
import { denied } from './contract.js';

/**
 * Several checkers named in ACCESS_CHECKER act as one: every checker must grant (the first denial
 * wins; with `missingWins`, a later checker's 404 wins over a denial made `afterReading`),
 * mutations apply in order, post-processing steps run in order, each on the previous step's output,
 * and a resource is visible only when it is visible to every checker. A checker that rewrites the
 * body (a Bundle whose entries it narrowed) or sets headers hands them to the next ones, so what is
 * finally sent carries every checker's narrowing and conditions, not only the last one's.
 */
export function composeCheckers(
  checkers: readonly AccessChecker[],
  { missingWins = false }: ComposeOptions = {},
): AccessChecker {
  if (checkers.length === 1) return checkers[0]!;
  return {
    async checkAccess(req: FhirRequest): Promise<AccessDecision> {
      const decisions: GrantedDecision[] = [];
      let current = req;
      for (let index = 0; index < checkers.length; index++) {
        const decision = await checkers[index]!.checkAccess(current);
        if (!decision.canAccess) {
          if (!missingWins || !decision.afterReading || decision.status === 404) return decision;
          return (await hiding(checkers.slice(index + 1), current)) ?? decision;
        }
        decisions.push(decision);
        const body = decision.mutation?.replaceBody;
        if (body !== undefined) current = { ...current, body: jsonBody(body) };
        // The next checker judges the headers as they will be sent: an If-Match naming the stored
        // version this one judged must name the one the next reads too (version-guard.ts).
        const headers = decision.mutation?.setHeaders;
        if (headers !== undefined) current = { ...current, headers: { ...current.headers, ...headers } };
      }
      return combineGranted(decisions);
    },
  };
}

export interface ComposeOptions {
  /**
   * After a denial made `afterReading` (it depends on the stored resource), ask the later checkers
   * too, and answer 404 if one hides that resource. For independent checkers
   * (ACCESS_CHECKER=patient,list). Denials made from the request alone (scopes, roles) still win
   * first: asking on after them would tell apart what they refuse alike.
   */
  readonly missingWins?: boolean;
}

/**
 * The 404 of a later checker, if one hides the resource: a resource hidden from one checker must
 * answer as missing whatever the others object to, or the difference (400/403 vs 404) tells that
 * it exists (docs/security.md, existence oracles). Later checkers are asked only after a denial; one
 * that fails otherwise leaves the first denial standing.
 */
async function hiding(
  later: readonly AccessChecker[],
  req: FhirRequest,
): Promise<AccessDecision | undefined> {
  for (const checker of later) {
    try {
      const decision = await checker.checkAccess(req);
      if (!decision.canAccess && decision.status === 404) return decision;
    } catch (error) {
      if (error instanceof GatewayError && error.status === 404) return denied(error.message, 404);
    }
  }
  return undefined;
}

function combineGranted(decisions: readonly GrantedDecision[]): GrantedDecision {
  // One pass, no intermediate arrays: this runs on every request of a composed checker.
  let mutations: RequestMutation[] | undefined;
  let postProcessors: GrantedDecision[] | undefined;
  let viewers: GrantedDecision[] | undefined;
  let auditSource: GrantedDecision | undefined;
  for (const decision of decisions) {
    if (decision.mutation !== undefined) mutations = appended(mutations, decision.mutation);
    if (decision.postProcess !== undefined) postProcessors = appended(postProcessors, decision);
    if (decision.visible !== undefined) viewers = appended(viewers, decision);
    if (auditSource === undefined && decision.auditAgent !== undefined) auditSource = decision;
  }
  const combined: {
    canAccess: true;
    mutation?: RequestMutation;
    postProcess?: GrantedDecision['postProcess'];
    auditAgent?: GrantedDecision['auditAgent'];
    visible?: GrantedDecision['visible'];
  } = { canAccess: true };
  if (mutations !== undefined) combined.mutation = concatMutations(mutations);
  if (postProcessors?.length === 1) combined.postProcess = postProcessors[0]!.postProcess;
  else if (postProcessors !== undefined) {
    const steps = postProcessors;
    combined.postProcess = async (req, res) => {
      let current: BackendResponse = res;
      let replaced: unknown;
      for (const decision of steps) {
        const output = await decision.postProcess!(req, current);
        if (output !== undefined) {
          replaced = output;
          current = jsonResponse(current, output);
        }
      }
      return replaced;
    };
  }
  // A resource is shown only when every checker that restricts the answer may show it.
  if (viewers?.length === 1) combined.visible = viewers[0]!.visible!;
  else if (viewers !== undefined) {
    const all = viewers;
    combined.visible = (resource) => all.every((d) => d.visible!(resource));
  }
  if (auditSource !== undefined) {
    const source = auditSource;
    combined.auditAgent = () => source.auditAgent!();
  }
  return combined;
}

/** `list` with `item` at its end; a list is made only once something goes in it. */
function appended<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

/**
 * One mutation with the effect of applying the given ones in order. Adding a param replaces its
 * name, so each step is "discard names S, then append A"; a later step's S also removes what an
 * earlier step appended.
 */
export function concatMutations(mutations: readonly RequestMutation[]): RequestMutation {
  // One mutation is its own effect: mutate() already lets added params replace same-name ones.
  if (mutations.length === 1) return mutations[0]!;
  const discard = new Set<string>();
  let add: RequestMutation['addParams'] = [];
  for (const mutation of mutations) {
    const removed = new Set([
      ...(mutation.discardParams ?? []),
      ...(mutation.addParams ?? []).map((p) => p.name),
    ]);
    add = [...add.filter((p) => !removed.has(p.name)), ...(mutation.addParams ?? [])];
    for (const name of removed) discard.add(name);
  }
  const withBody = [...mutations].reverse().find((m) => m.replaceBody !== undefined);
  // Later checkers' headers win, as later params do.
  const headers = Object.assign({}, ...mutations.map((m) => m.setHeaders ?? {})) as Record<string, string>;
  return {
    addParams: add,
    discardParams: [...discard],
    ...(withBody ? { replaceBody: withBody.replaceBody } : {}),
    ...(Object.keys(headers).length > 0 ? { setHeaders: headers } : {}),
  };
}

function jsonResponse(previous: BackendResponse, body: unknown): BackendResponse {
  const text = JSON.stringify(body);
  return { status: previous.status, headers: previous.headers, json: () => body, text: () => text };
}

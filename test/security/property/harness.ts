/**
 * The property-based test of issue 8 ("Done when", item 2) and of issue 10's checkers: fast-check
 * generates worlds and request sequences; each world runs on a real gateway (RUN_MODE=PROD) in
 * front of the real local FHIR server (HAPI paging), with tokens from the real local issuer, over
 * real HTTP. Two kinds of world, each with its generator and oracle (a Policy):
 * - `permission` (OpenSRP): users, roles, assignments, tagged data (world.ts, oracle.ts);
 * - `patient`, `list`, `patient,list`: patients, compartments, access Lists, SMART scopes
 *   (patient-world.ts, patient-scopes.ts, patient-oracle.ts).
 * Every answer is held to the oracle:
 *   (a) no resource the caller may not see anywhere in a body (JSON or XML), nor in a Location;
 *       an out-of-scope resource looks missing (its answer equals that for a missing id);
 *   (b) nothing reached the backend that the caller was not authorized for;
 *   (c) no 5xx made by the gateway itself (a backend 5xx passed on is fine);
 *   (d) no unhandled rejection or uncaught exception in the process.
 */
import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import type { LocalFhirServer, RecordedRequest } from '../../support/fhir-server.js';
import { startFhirServer } from '../../support/fhir-server.js';
import { type RawResponse, send } from '../../support/http.js';
import { type LocalIssuer, startIssuer } from '../../support/issuer.js';
import { startStack } from '../../support/stack.js';
import {
  type AnyResource,
  type Before,
  type Forwarded,
  RepoView,
  type Violation,
  xmlAsJson,
} from './oracle.js';
import { type CheckerName, CHECKERS } from './patient-world.js';
import { opensrpMode, patientMode } from './policies.js';
import { type Rendered, Renderer, type RenderWorld, type Spec } from './requests.js';

/** Which checkers a run drives: `permission` (OpenSRP) or the patient-centred ones. */
export type Checker = 'permission' | CheckerName;
export const ALL_CHECKERS: readonly Checker[] = ['permission', ...CHECKERS];

/** A caller of a world: the harness knows it by index, `sub` and label. */
export interface Participant {
  readonly index: number;
  readonly sub: string;
  readonly label: string;
}

/** The oracle of one kind of world, as the harness asks it. */
export interface Policy<U extends Participant, C> {
  caller(user: U): Promise<C>;
  /** The token's claims; undefined: the request carries no token. */
  claims(user: U): Record<string, unknown> | undefined;
  forwardProblems(
    caller: C,
    fwd: Forwarded,
    before: Before,
    pageOwner: (id: string) => U | undefined,
  ): string[];
  /** What the caller may not see in an answer's body. */
  leaks(caller: C, rendered: Rendered, body: unknown): string[];
  /** Why the caller may not see a resource a Location header names. */
  hidden(caller: C, resource: AnyResource): string | undefined;
  /** Why a vread or history answer of a resource whose current version is `current` is a leak. */
  currentHidden(caller: C, rendered: Rendered, current: AnyResource): string | undefined;
  /** Whether a by-id request on the stored, existing target must answer as for a missing one. */
  twinApplies(caller: C, rendered: Rendered, stored: AnyResource): boolean;
  /** The id of an open finding pinned in findings.test.ts this violation is an instance of. */
  knownOpen?(violation: Violation): string | undefined;
}

/** One kind of world: its generators, how it is built and seeded, and its oracle. */
export interface Mode<
  S,
  W extends RenderWorld & { readonly resources: unknown[]; readonly users: readonly U[] },
  U extends Participant,
  C,
> {
  readonly worldArb: fc.Arbitrary<S>;
  readonly specArb: fc.Arbitrary<Spec>;
  build(spec: S): W;
  env(world: W): Record<string, string>;
  describe(world: W): string;
  policy(world: W, view: RepoView): Policy<U, C>;
  /** A patient the user acts for, for requests aimed at the caller's own data (patient worlds). */
  me?(world: W): (user: number, n: number) => string | undefined;
}

export interface RunOptions {
  /** Worlds to generate; each runs `requestsPerWorld` generated requests (plus follow-ups). */
  readonly runs: number;
  readonly seed: number;
  readonly requestsPerWorld?: { min: number; max: number };
  /** Shrink a failing case (slow: every attempt starts a new stack). */
  readonly shrink?: boolean;
  /** Gateway settings over the ones below (the self-test runs a checker that checks nothing). */
  readonly env?: Readonly<Record<string, string>>;
  /** The checker the worlds run with (default `permission`). */
  readonly checker?: Checker;
  /** Replays one case of a failing run (fast-check's counterexample path). */
  readonly path?: string;
  readonly log?: (line: string) => void;
  /** Called with every request and its status (for `--verbose`). */
  readonly trace?: (line: string) => void;
}

export interface Stats {
  requests: number;
  refused: number;
  forwarded: number;
  leaked: number;
  violations: number;
  /** Violations of findings pinned as open in findings.test.ts (counted, not failed). */
  knownOpen: number;
}

export interface RunResult {
  readonly stats: Stats;
  /** The report of the failing world, or undefined when every answer held. */
  readonly failure?: string;
}

export function summaryLine(stats: Stats): string {
  const open = stats.knownOpen > 0 ? `, ${stats.knownOpen} of open findings (findings.test.ts)` : '';
  return `${stats.requests} requests, ${stats.refused} refused, ${stats.forwarded} forwarded, ${stats.leaked} leaked${open}`;
}

interface Found {
  readonly violation: Violation;
  readonly request: string;
}

/** One world on its own stack: runs the requests, returns what the oracle found. */
class WorldRun<U extends Participant, C> {
  private readonly pageOwners = new Map<string, U>();
  private readonly backendStatus = new Map<RecordedRequest, number>();
  private readonly tokens = new Map<number, string | undefined>();
  private counter = 0;
  readonly found: Found[] = [];
  readonly renderer: Renderer;

  constructor(
    readonly world: RenderWorld & { readonly users: readonly U[] },
    private readonly policy: Policy<U, C>,
    private readonly view: RepoView,
    private readonly fhir: LocalFhirServer,
    private readonly issuer: LocalIssuer,
    private readonly gatewayUrl: string,
    private readonly stats: Stats,
    private readonly trace?: (line: string) => void,
    me?: (user: number, n: number) => string | undefined,
  ) {
    this.renderer = new Renderer(world, (type, id) => this.versions(type, id), me);
    fhir.intercept((req, res) => {
      res.on('finish', () => this.backendStatus.set(req, res.statusCode));
      return false;
    });
  }

  private async versions(type: string, id: string): Promise<string[]> {
    try {
      const history = await this.fhir.repo.readHistory(type, id);
      return (history.entry ?? [])
        .map((e) => e.resource?.meta?.versionId)
        .filter((v): v is string => v !== undefined);
    } catch {
      return [];
    }
  }

  private async token(user: U): Promise<string | undefined> {
    if (!this.tokens.has(user.index)) {
      const claims = this.policy.claims(user);
      this.tokens.set(user.index, claims === undefined ? undefined : await this.issuer.mint(claims));
    }
    return this.tokens.get(user.index);
  }

  /**
   * The stored versions of what the request names (its target, its Bundle entries' targets),
   * read before it is sent, for the write rules and the current-version rule.
   */
  private async snapshot(rendered: Rendered): Promise<Before> {
    const keys = new Set<string>();
    if (rendered.target) keys.add(`${rendered.target.type}/${rendered.target.id}`);
    if (rendered.path === '' && rendered.body) {
      try {
        const bundle = JSON.parse(rendered.body) as { entry?: { request?: { url?: string } }[] };
        for (const entry of bundle.entry ?? []) {
          const match = /^([A-Za-z]+)\/([^/?]+)/.exec(entry?.request?.url ?? '');
          if (match) keys.add(`${match[1]}/${match[2]}`);
        }
      } catch {
        // Not JSON: nothing is forwarded.
      }
    }
    const stored = new Map<string, Record<string, unknown>>();
    const deleted = new Set<string>();
    for (const key of keys) {
      const [type, id] = key.split('/') as [string, string];
      const resource = await this.view.get(type, id);
      if (resource) stored.set(key, resource);
      else if ((await this.versions(type, id)).length > 0) deleted.add(key);
    }
    return {
      stored: (type, id) => stored.get(`${type}/${id}`) as ReturnType<Before['stored']>,
      deleted: (type, id) => deleted.has(`${type}/${id}`),
    };
  }

  async runSpec(spec: Spec): Promise<void> {
    const user = this.world.users[spec.user % this.world.users.length]!;
    const rendered = await this.renderer.render(spec);
    const response = await this.exec(user, rendered, true);
    if (spec.kind === 'search' && spec.follow > 0 && response) {
      let answer = response;
      for (let page = 0; page < spec.follow; page++) {
        const next = nextLink(answer);
        if (next === undefined) break;
        const follower =
          spec.follower === 'same' ? user : this.world.users[spec.follower % this.world.users.length]!;
        const followed = await this.exec(
          follower,
          {
            method: 'GET',
            path: next,
            headers: {},
            readsOne: false,
            interaction: 'paging',
            ...(rendered.searchType ? { searchType: rendered.searchType } : {}),
          },
          false,
        );
        if (!followed) break;
        answer = followed;
      }
    }
  }

  /** Sends one request and holds its answer and what it forwarded to the oracle. */
  private async exec(user: U, rendered: Rendered, twin: boolean): Promise<RawResponse | undefined> {
    const caller = await this.policy.caller(user);
    const before = await this.snapshot(rendered);
    const requestId = `prop-${++this.counter}`;
    const token = await this.token(user);
    const mark = this.fhir.requests.length;
    const sentAt = Date.now();
    const response = await send(this.gatewayUrl, {
      method: rendered.method,
      path: `/fhir${rendered.path}`,
      headers: {
        ...rendered.headers,
        'x-request-id': requestId,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(rendered.body === undefined ? {} : { body: rendered.body }),
    });
    const recorded = this.fhir.requests.slice(mark);
    const forwarded = recorded.filter((r) => r.headers['x-request-id'] === requestId);
    const describe = `${user.label} ${rendered.method} /fhir${rendered.path}${
      Object.keys(rendered.headers).length ? ` ${JSON.stringify(rendered.headers)}` : ''
    }${rendered.body ? ` body ${rendered.body.slice(0, 600)}` : ''} → ${response.status}`;
    const found: Violation[] = [];

    this.trace?.(
      `${Date.now() - sentAt} ms ${describe} (${forwarded.length} forwarded)${response.status >= 400 ? ` ${response.text.slice(0, 160)}` : ''}`,
    );
    this.stats.requests++;
    if (forwarded.length > 0) this.stats.forwarded++;
    else if (response.status >= 400) this.stats.refused++;

    // (c) a 5xx is the backend's only when the backend answered one for this request.
    if (response.status >= 500) {
      const backend5xx = recorded.some((r) => (this.backendStatus.get(r) ?? 0) >= 500);
      if (!backend5xx) found.push({ kind: 'gateway-5xx', detail: response.text.slice(0, 400) });
    }
    // (b) what reached the backend.
    for (const r of forwarded) {
      for (const problem of this.policy.forwardProblems(caller, asForwarded(r), before, (id) =>
        this.pageOwners.get(id),
      )) {
        found.push({ kind: 'forward', detail: problem });
      }
    }
    // (a) what the answer carries, judged on the data as the request left it (a Patient the list
    // checker created joined the List).
    const after =
      rendered.method === 'GET' || rendered.method === 'HEAD' ? caller : await this.policy.caller(user);
    found.push(...(await this.answerLeaks(after, rendered, response, before)));
    const pages = pageIdsIn(response);
    for (const page of pages) if (!this.pageOwners.has(page)) this.pageOwners.set(page, user);

    // Out of scope looks missing: the same request on a missing id answers the same.
    if (twin && found.length === 0) {
      const problem = await this.existenceTwin(user, caller, rendered, response, before);
      if (problem) found.push(problem);
    }
    const open = found.filter((f) => this.policy.knownOpen?.(f) !== undefined);
    this.stats.knownOpen += open.length;
    found.splice(0, found.length, ...found.filter((f) => !open.includes(f)));
    if (found.some((f) => f.kind === 'leak')) this.stats.leaked++;
    this.stats.violations += found.length;
    const excerpt = response.text.length > 0 ? `\n    answer: ${response.text.slice(0, 1200)}` : '';
    for (const violation of found) this.found.push({ violation, request: `${describe}${excerpt}` });
    return response;
  }

  private async answerLeaks(
    caller: C,
    rendered: Rendered,
    response: RawResponse,
    before: Before,
  ): Promise<Violation[]> {
    const leaks: Violation[] = [];
    const type = contentType(response);
    const text = response.text;
    if (rendered.interaction !== 'capabilities' && text.trim() !== '' && rendered.method !== 'HEAD') {
      let body: unknown;
      if (type.includes('json')) {
        try {
          body = JSON.parse(text);
        } catch {
          leaks.push({
            kind: 'leak',
            detail: `an answer labelled JSON that does not parse: ${text.slice(0, 200)}`,
          });
        }
      } else if (type.includes('xml')) {
        body = xmlAsJson(text);
        if (body === undefined)
          leaks.push({ kind: 'leak', detail: `an XML answer the oracle cannot read: ${text.slice(0, 200)}` });
      } else {
        leaks.push({
          kind: 'leak',
          detail: `an answer of type '${type}' the oracle cannot read: ${text.slice(0, 200)}`,
        });
      }
      if (body !== undefined) {
        const top = body as { resourceType?: unknown };
        if (
          response.status < 300 &&
          (typeof top !== 'object' || top === null || typeof top.resourceType !== 'string')
        ) {
          leaks.push({
            kind: 'leak',
            detail: `a 2xx answer that is not a FHIR resource: ${text.slice(0, 200)}`,
          });
        }
        // A 201 to a create or update-as-create carries what the client itself just sent (plus
        // the server's id and meta): not a disclosure, whatever its tags.
        const ownSubmission =
          response.status === 201 && (rendered.interaction === 'create' || rendered.interaction === 'update');
        if (!ownSubmission)
          for (const leak of this.policy.leaks(caller, rendered, body))
            leaks.push({ kind: 'leak', detail: leak });
      }
    }
    // A Location (or Content-Location) names a resource: it must be one the caller may see,
    // unless the caller named it (PUT/PATCH/DELETE of that id) or created it (201).
    for (const header of ['location', 'content-location'] as const) {
      const value = response.headers[header];
      if (typeof value !== 'string' || response.status === 201) continue;
      const match = /\/fhir\/([A-Za-z]+)\/([^/?#]+)/.exec(value);
      if (!match) continue;
      const [, t, id] = match;
      if (rendered.target?.type === t && rendered.target?.id === id) continue;
      const stored = before.stored(t!, id!) ?? (await this.view.get(t!, id!));
      const why = stored ? this.policy.hidden(caller, stored) : undefined;
      if (why) leaks.push({ kind: 'leak', detail: `${header} names ${t}/${id}: ${why}` });
    }
    // vread and history of a resource whose current version is outside the scope (R9).
    const target = rendered.target;
    if (
      target &&
      (rendered.interaction === 'vread' || rendered.interaction === 'history-instance') &&
      response.status < 300
    ) {
      const current = before.stored(target.type, target.id);
      const why = current ? this.policy.currentHidden(caller, rendered, current) : undefined;
      if (why)
        leaks.push({
          kind: 'leak',
          detail: `${rendered.interaction} of ${target.type}/${target.id}, whose current version is hidden: ${why}`,
        });
    }
    return leaks;
  }

  private async existenceTwin(
    user: U,
    caller: C,
    rendered: Rendered,
    response: RawResponse,
    before: Before,
  ): Promise<Violation | undefined> {
    const target = rendered.target;
    if (!target || target.missing) return undefined;
    const stored = before.stored(target.type, target.id);
    if (!stored || !this.policy.twinApplies(caller, rendered, stored)) return undefined;
    const path = rendered.path.replace(`/${target.type}/${target.id}`, `/${target.type}/missing-twin`);
    const twin = await this.exec(
      user,
      { ...rendered, path, target: { ...target, id: 'missing-twin', missing: true } },
      false,
    );
    if (!twin) return undefined;
    const shape = (r: RawResponse) =>
      `${r.status}${r.headers.etag ? ' etag' : ''}${r.headers['last-modified'] ? ' last-modified' : ''}${r.headers.location ? ' location' : ''}`;
    if (shape(twin) === shape(response)) return undefined;
    return {
      kind: 'existence',
      detail: `${target.type}/${target.id} (hidden from the caller) answers ${shape(response)}, a missing id answers ${shape(twin)}`,
    };
  }
}

function asForwarded(r: RecordedRequest): Forwarded {
  return {
    method: r.method,
    path: r.path.replace(/^\/fhir/, ''),
    query: r.query,
    headers: r.headers,
    body: r.body,
  };
}

function contentType(response: RawResponse): string {
  return String(response.headers['content-type'] ?? '').toLowerCase();
}

function parsed(response: RawResponse): unknown {
  if (!contentType(response).includes('json')) return undefined;
  try {
    return JSON.parse(response.text);
  } catch {
    return undefined;
  }
}

/** The gateway-relative path of a searchset's `next` link (`/Patient?…` or `?_getpages=…`). */
function nextLink(response: RawResponse): string | undefined {
  const body = parsed(response) as { link?: { relation?: string; url?: string }[] } | undefined;
  const url = body?.link?.find((l) => l.relation === 'next')?.url;
  if (!url) return undefined;
  const at = url.indexOf('/fhir');
  return at === -1 ? undefined : url.slice(at + '/fhir'.length);
}

function pageIdsIn(response: RawResponse): string[] {
  const body = parsed(response) as { link?: { url?: string }[] } | undefined;
  return (body?.link ?? []).flatMap((l) => {
    const q = l.url?.indexOf('?') ?? -1;
    return q === -1 ? [] : new URLSearchParams(l.url!.slice(q + 1)).getAll('_getpages');
  });
}

/** Runs the property; never throws for a found violation (the result says), only for a broken harness. */
export async function runProperty(options: RunOptions): Promise<RunResult> {
  const checker = options.checker ?? 'permission';
  return checker === 'permission' ? runMode(opensrpMode, options) : runMode(patientMode(checker), options);
}

async function runMode<
  S,
  W extends RenderWorld & { readonly resources: unknown[]; readonly users: readonly U[] },
  U extends Participant,
  C,
>(mode: Mode<S, W, U, C>, options: RunOptions): Promise<RunResult> {
  const stats: Stats = { requests: 0, refused: 0, forwarded: 0, leaked: 0, violations: 0, knownOpen: 0 };
  const issuer = await startIssuer({ realm: 'opensrp' });
  const rejections: string[] = [];
  const onRejection = (reason: unknown) =>
    rejections.push(`unhandled rejection: ${String((reason as Error)?.stack ?? reason)}`);
  const onException = (error: unknown) =>
    rejections.push(`uncaught exception: ${String((error as Error)?.stack ?? error)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const { min, max } = options.requestsPerWorld ?? { min: 20, max: 40 };
  let failure: string | undefined;
  try {
    const property = fc.asyncProperty(
      mode.worldArb,
      fc.array(mode.specArb, { minLength: min, maxLength: max }),
      async (spec: S, specs: Spec[]) => {
        const world = mode.build(spec);
        const fhir = await startFhirServer({
          seed: world.resources as Resource[],
          paging: 'hapi',
          pageSize: 4,
        });
        const stack = await startStack({
          fhir,
          issuer,
          env: { RUN_MODE: 'PROD', ...mode.env(world), ...options.env },
        });
        const view = new RepoView(fhir.repo);
        const run = new WorldRun(
          world,
          mode.policy(world, view),
          view,
          fhir,
          issuer,
          stack.gatewayUrl,
          stats,
          options.trace,
          mode.me?.(world),
        );
        try {
          for (const s of specs) await run.runSpec(s);
          // Let stray promises settle so that their rejections are seen here.
          await new Promise((resolve) => setImmediate(resolve));
        } finally {
          await stack.close();
          await fhir.close();
        }
        const found = [
          ...run.found.map((f) => `[${f.violation.kind}] ${f.violation.detail}\n    request: ${f.request}`),
          ...rejections.splice(0),
        ];
        if (found.length > 0) {
          const report = `${mode.describe(world)}\n${found.slice(0, 12).join('\n')}${found.length > 12 ? `\n… and ${found.length - 12} more` : ''}`;
          options.log?.(report);
          throw new Error(report);
        }
      },
    );
    const details = await fc.check(property, {
      numRuns: options.path === undefined ? options.runs : 1,
      seed: options.seed,
      endOnFailure: !options.shrink,
      ...(options.path === undefined ? {} : { path: options.path }),
    });
    if (details.failed) {
      const error = details.errorInstance as Error | undefined;
      failure = `seed ${details.seed}, path "${details.counterexamplePath}" (run with --seed=${details.seed} --path=${details.counterexamplePath})\n${error?.message ?? String(details.errorInstance)}`;
    }
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    await issuer.close();
  }
  return failure === undefined ? { stats } : { stats, failure };
}

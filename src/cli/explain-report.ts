import type { RequestMutation } from '../access/contract.js';
import type { UpstreamRequest } from '../backend/backend.js';
import type { Exchange } from '../server/pipeline/exchange.js';

/** What `fhir-gateway explain` prints (`--json` prints this object as it is). */
export interface Explanation {
  readonly request: { readonly method: string; readonly path: string };
  readonly token: {
    readonly verified: boolean;
    /** `argument`, or the file the token or claims came from. */
    readonly source: string;
    readonly note: string;
    readonly issuer?: string;
    readonly subject?: string;
  };
  /** `error`: the gateway could not decide (e.g. 503 while the issuer is down, 502 on a lookup). */
  readonly decision: 'granted' | 'denied' | 'error';
  /** For refusals: the stage that refused. */
  readonly stage?: 'parse' | 'authenticate' | 'authorize';
  readonly status?: number;
  readonly code?: string;
  readonly reason: string;
  readonly detail?: string;
  /** `checker`, `allowed-query`, `unauthenticated-allowed-query` or `capabilities` (as in the metrics). */
  readonly grantedBy?: string;
  readonly mutation?: RequestMutation;
  readonly upstream?: UpstreamReport;
  readonly answer?: { readonly checked: boolean; readonly postProcessed: boolean };
}

export interface UpstreamReport {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A form body (a search sent as POST `_search`) or the resource body, as text. */
  readonly body?: string;
}

/** Which stage refused, from what the stages had filled in by then. */
export function stageOf(exchange: Exchange): NonNullable<Explanation['stage']> {
  if (exchange.fhir === undefined) return 'parse';
  return exchange.token === undefined ? 'authenticate' : 'authorize';
}

export function upstreamOf(backendBaseUrl: string, request: UpstreamRequest): UpstreamReport {
  const { 'x-request-id': _id, 'x-forwarded-for': _for, ...headers } = request.headers;
  return {
    method: request.method,
    url: backendBaseUrl + request.target,
    headers,
    ...(request.body === undefined ? {} : { body: request.body.toString() }),
  };
}

const LABEL_WIDTH = 10;
const row = (label: string, text: string) => `${label.padEnd(LABEL_WIDTH)}${text}\n`;
const more = (text: string) => row('', text);

export function formatExplanation(explanation: Explanation): string {
  const { request, token } = explanation;
  let out = row('request', `${request.method} ${request.path}`);
  const who = [token.issuer && `iss ${token.issuer}`, token.subject && `sub ${token.subject}`].filter(
    Boolean,
  );
  out += row('token', `${token.source}: ${token.note}${who.length > 0 ? ` (${who.join(', ')})` : ''}`);
  if (explanation.decision !== 'granted') {
    const verdict = explanation.decision === 'denied' ? 'DENIED' : 'NOT DECIDED';
    out += row('decision', `${verdict} at ${explanation.stage}: ${explanation.status} ${explanation.code}`);
    out += row('reason', explanation.reason);
    if (explanation.detail) out += row('detail', explanation.detail);
    return out;
  }
  out += row('decision', `GRANTED (${explanation.grantedBy})`);
  out += row('reason', explanation.reason);
  out += formatMutation(explanation.mutation);
  const upstream = explanation.upstream;
  if (upstream) {
    out += row('upstream', `${upstream.method} ${upstream.url}`);
    const type = upstream.headers['content-type'];
    if (upstream.body !== undefined) {
      if (type) out += more(`content-type: ${type}`);
      out += more(upstream.body);
    }
  }
  const answer = explanation.answer;
  if (answer) {
    const checked = answer.checked
      ? "buffered; every resource in it is held to the caller's scope"
      : 'streamed as the FHIR server sends it';
    out += row('answer', `${checked}${answer.postProcessed ? '; post-processed by the checker' : ''}`);
  }
  return out;
}

function formatMutation(mutation: RequestMutation | undefined): string {
  if (!mutation) return row('mutation', 'none');
  let out = '';
  let label = 'mutation';
  const add = (text: string) => {
    out += row(label, text);
    label = '';
  };
  for (const param of mutation.addParams ?? []) add(`add ${param.name}=${param.value}`);
  for (const name of mutation.discardParams ?? []) add(`discard ${name}`);
  for (const [name, value] of Object.entries(mutation.setHeaders ?? {})) add(`set header ${name}: ${value}`);
  if (mutation.replaceBody !== undefined) add('replace the body (shown below)');
  return out === '' ? row('mutation', 'none') : out;
}

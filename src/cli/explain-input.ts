/**
 * The inputs of `fhir-gateway explain`: the token (a JWT, a file holding one, or a file of bare
 * JSON claims) and the request line (`GET /fhir/Patient?name=x`), with an optional body and headers.
 */
import { readFileSync, statSync } from 'node:fs';
import type { VerifiedToken } from '../access/contract.js';
import { UsageError } from './args.js';

export type TokenInput =
  | { readonly kind: 'jwt'; readonly jwt: string; readonly file?: string }
  /** Claims taken as they are: no signature, issuer, lifetime or type check. */
  | { readonly kind: 'claims'; readonly token: VerifiedToken; readonly file: string };

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function readTokenInput(value: string, defaultIssuer: string, nowSeconds: number): TokenInput {
  if (!isFile(value)) {
    const jwt = value.replace(/^Bearer\s+/i, '').trim();
    if (!JWT_SHAPE.test(jwt))
      throw new UsageError(`--token ${JSON.stringify(value)} is neither a file nor a JWT`);
    return { kind: 'jwt', jwt };
  }
  const text = readFileSync(value, 'utf8').trim();
  if (!text.startsWith('{')) {
    const jwt = text.replace(/^Bearer\s+/i, '');
    if (!JWT_SHAPE.test(jwt))
      throw new UsageError(`--token file ${value} holds neither JSON claims nor a JWT`);
    return { kind: 'jwt', jwt, file: value };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--token file ${value} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new UsageError(`--token file ${value} must hold a JSON object of claims`);
  }
  const record = claims as Record<string, unknown>;
  const token: VerifiedToken = {
    issuer: typeof record.iss === 'string' ? record.iss : defaultIssuer,
    ...(typeof record.sub === 'string' ? { subject: record.sub } : {}),
    expiresAt: typeof record.exp === 'number' ? record.exp : nowSeconds + 300,
    claims: record,
  };
  return { kind: 'claims', token, file: value };
}

export interface RequestLine {
  readonly method: string;
  /** Below the FHIR base, as the pipeline's Exchange holds it: `/Patient?x=1`, `?_getpages=…` or ''. */
  readonly target: string;
}

/** `GET /fhir/Patient?name=x` (a full gateway URL is accepted in place of the path). */
export function parseRequestLine(line: string): RequestLine {
  const match = /^([A-Za-z]+)\s+(\S+)$/.exec(line.trim());
  if (!match)
    throw new UsageError(`the request must read "<METHOD> /fhir/<path>", got ${JSON.stringify(line)}`);
  const method = match[1]!.toUpperCase();
  let path = match[2]!;
  if (/^https?:\/\//i.test(path)) {
    const url = new URL(path);
    path = url.pathname + url.search;
  }
  if (path !== '/fhir' && !path.startsWith('/fhir/') && !path.startsWith('/fhir?')) {
    throw new UsageError(`explain covers the FHIR API below /fhir, got ${JSON.stringify(path)}`);
  }
  return { method, target: path.slice('/fhir'.length) };
}

/** `Name: value` options to lower-cased headers. */
export function parseHeaders(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must read "Name: value", got ${JSON.stringify(line)}`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

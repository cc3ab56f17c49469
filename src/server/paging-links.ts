import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { VerifiedToken } from '../access/contract.js';
import { GatewayError } from '../fhir/errors.js';
import type { FhirRequest } from '../fhir/request.js';
import type { UrlTailRewrite } from './url-rewrite.js';

const PAGING_PARAM = '_getpages';
/** The Google Cloud Healthcare API's continuation: a type search that carries `_page_token`. */
const PAGE_TOKEN_PARAM = '_page_token';
/** Link params whose values name a stored search: signed in links, verified when they come back. */
const CONTINUATION_PARAMS = [PAGING_PARAM, PAGE_TOKEN_PARAM] as const;
/** `name=` of each continuation param, made once: every link of every page is looked at. */
const CONTINUATION_ASSIGNMENTS = CONTINUATION_PARAMS.map((name) => `${name}=`);
const SEPARATOR = '~';
/** 128 bits of HMAC-SHA256, base64url. */
const SIGNATURE_LENGTH = 22;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{0,63}$/;

/**
 * HAPI paging continuations (`[base]?_getpages=<search id>&_getpagesoffset=N`) bound to the caller.
 * A search id alone would let anyone holding a link read the stored search (another user's, or
 * one narrowed for someone else), so every `_getpages` value the gateway hands out becomes
 * `<id>~<resource type>~<signature>`, the signature an HMAC over the token's issuer and subject,
 * the type of the search that started it, and the id. A continuation is served only to the same
 * user, and is authorized as a search of that type, its answer checked like any other. The Google
 * Cloud Healthcare API's page tokens (`Patient?_page_token=<token>&…`) are bound the same way: a
 * token names a stored search as a HAPI search id does.
 */
export class PagingLinks {
  private readonly key: Buffer;

  /** @param key PAGING_LINK_KEY; replicas that share it accept each other's links. */
  constructor(key: string | undefined) {
    this.key = key === undefined ? randomBytes(32) : Buffer.from(key, 'utf8');
  }

  /**
   * The continuation request as the checkers see it: its search's resource type restored and the
   * raw search id in `_getpages` (or the raw `_page_token`, whose URL names the type), to be
   * forwarded as the backend issued it.
   * @throws GatewayError 403 when the link was not issued to this user (or was altered).
   */
  open(req: FhirRequest, token: VerifiedToken): FhirRequest {
    const param = req.interaction === 'paging' ? PAGING_PARAM : PAGE_TOKEN_PARAM;
    const values = req.query.filter((p) => p.name === param);
    const [id, resourceType, signature] = values.length === 1 ? values[0]!.value.split(SEPARATOR) : [];
    const valid =
      id !== undefined &&
      resourceType !== undefined &&
      signature !== undefined &&
      (resourceType === '' || RESOURCE_TYPE.test(resourceType)) &&
      // A page token continues a search of the type its URL names; nothing else may ride on it.
      (param === PAGING_PARAM || resourceType === (req.resourceType ?? '')) &&
      this.matches(signature, this.sign(token, resourceType, id));
    if (!valid) {
      throw new GatewayError(
        403,
        'paging_link_not_yours',
        'This paging link was not issued to this user by this gateway; repeat the search',
      );
    }
    const query = req.query.map((p) => (p.name === param ? { name: p.name, value: id } : p));
    return resourceType === '' || param === PAGE_TOKEN_PARAM
      ? { ...req, query }
      : { ...req, query, resourceType };
  }

  /**
   * Rewrites the `_getpages` values of the links in an answer to `token`'s user. `resourceType`
   * is the type of the search the links continue.
   */
  signer(token: VerifiedToken | undefined, resourceType: string | undefined): UrlTailRewrite | undefined {
    if (token === undefined) return undefined;
    const type = resourceType ?? '';
    return (tail) => {
      const mark = tail.indexOf('?');
      if (mark === -1 || !CONTINUATION_ASSIGNMENTS.some((assignment) => tail.includes(assignment))) return tail;
      // Every page of a search carries the same links but for the offset, and its user asks again.
      const key = `${token.issuer}\n${token.subject ?? ''}\n${type}\n${tail}`;
      let signed = this.signedTails.get(key);
      if (signed === undefined) {
        signed = this.signTail(token, type, tail, mark);
        this.signedTails.set(key, signed);
      }
      return signed;
    };
  }

  private readonly signedTails = new LRUCache<string, string>({
    max: 10_000,
    maxSize: 8 * 1024 * 1024,
    sizeCalculation: (value, key) => value.length + key.length,
  });

  private signTail(token: VerifiedToken, type: string, tail: string, mark: number): string {
    const separator = tail.includes('&amp;') ? '&amp;' : '&';
    const pairs = tail
      .slice(mark + 1)
      .split(separator)
      .map((pair) => {
        const param = CONTINUATION_PARAMS.find((name) => pair.startsWith(`${name}=`));
        if (param === undefined) return pair;
        const id = decoded(pair.slice(param.length + 1));
        const signed = [id, type, this.sign(token, type, id)].join(SEPARATOR);
        return `${param}=${encodeURIComponent(signed)}`;
      });
    return `${tail.slice(0, mark + 1)}${pairs.join(separator)}`;
  }

  /** Signatures already made: every page of one search carries the same id, and its user asks again. */
  private readonly signatures = new LRUCache<string, string>({ max: 10_000 });

  private sign(token: VerifiedToken, resourceType: string, id: string): string {
    const input = [token.issuer, token.subject ?? '', resourceType, id].join('\n');
    let signature = this.signatures.get(input);
    if (signature === undefined) {
      signature = createHmac('sha256', this.key).update(input).digest('base64url').slice(0, SIGNATURE_LENGTH);
      this.signatures.set(input, signature);
    }
    return signature;
  }

  private matches(given: string, expected: string): boolean {
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/**
 * True for a request that continues a stored search: a HAPI paging link, or a search carrying a
 * page token (GCP). It is opened with `PagingLinks.open` for its user, never granted by an allowed query.
 */
export function continuesSearch(req: FhirRequest): boolean {
  return req.interaction === 'paging' || req.query.some((p) => p.name === PAGE_TOKEN_PARAM);
}

/** Applies the rewrites in order; undefined when there are none. */
export function composeTails(...tails: (UrlTailRewrite | undefined)[]): UrlTailRewrite | undefined {
  const present = tails.filter((tail): tail is UrlTailRewrite => tail !== undefined);
  if (present.length <= 1) return present[0];
  return (tail) => present.reduce((current, rewrite) => rewrite(current), tail);
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

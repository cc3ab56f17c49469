import type { FhirClient } from '../access/contract.js';
import { GatewayError } from '../fhir/errors.js';
import type { QueryParam } from '../fhir/request.js';
import type { Backend } from './backend.js';

const MAX_PAGES = 1000;
/** A first search page whose URL would be longer goes as `POST Type/_search` with a form body. */
const MAX_GET_URL_LENGTH = 2048;

function withQuery(path: string, query: readonly QueryParam[] | undefined): string {
  const target = path.startsWith('/') ? path : `/${path}`;
  if (!query || query.length === 0) return target;
  const search = new URLSearchParams(query.map((p): [string, string] => [p.name, p.value])).toString();
  return `${target}${target.includes('?') ? '&' : '?'}${search}`;
}

/** The plugins' view of the backend: JSON in, JSON out, every page followed. */
export class BackendFhirClient implements FhirClient {
  constructor(private readonly backend: Backend) {}

  async get(path: string, query?: readonly QueryParam[]): Promise<{ status: number; body: unknown }> {
    const { status, body } = await this.request('GET', path, query ? { query } : {});
    return { status, body };
  }

  async request(
    method: string,
    path: string,
    options: { query?: readonly QueryParam[]; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/fhir+json', ...options.headers };
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/fhir+json';
    }
    const response = await this.backend.send({
      method,
      target: withQuery(path, options.query),
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.body.text();
    const flatHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) flatHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    let body: unknown;
    try {
      body = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      throw new GatewayError(
        502,
        'backend_bad_response',
        'The FHIR server answered with a body that is not JSON',
      );
    }
    return { status: response.status, headers: flatHeaders, body };
  }

  async searchAll<T extends object = Record<string, unknown>>(
    resourceType: string,
    query: readonly QueryParam[],
  ): Promise<T[]> {
    const resources: T[] = [];
    let target: string | undefined = withQuery(`/${resourceType}`, query);
    for (let page = 0; target !== undefined; page++) {
      if (page >= MAX_PAGES)
        throw new GatewayError(502, 'backend_paging', 'The FHIR server returned too many pages');
      const { status, body }: { status: number; body: unknown } =
        page === 0 && this.backend.baseUrl.length + target.length > MAX_GET_URL_LENGTH
          ? await this.postSearch(resourceType, query)
          : await this.get(target);
      if (status < 200 || status >= 300 || !isBundle(body)) {
        throw new GatewayError(502, 'backend_search_failed', `A search on ${resourceType} failed upstream`, {
          detail: `status ${status}`,
        });
      }
      for (const entry of body.entry ?? []) {
        if (entry.resource && (entry.search?.mode ?? 'match') === 'match')
          resources.push(entry.resource as T);
      }
      const next: string | undefined = body.link?.find((link) => link.relation === 'next')?.url;
      target = next === undefined ? undefined : this.targetOf(next);
    }
    return resources;
  }

  /** A search sent as a form body, so that thousands of ids fit in one request. */
  private postSearch(
    resourceType: string,
    query: readonly QueryParam[],
  ): Promise<{ status: number; body: unknown }> {
    const form = new URLSearchParams(query.map((p): [string, string] => [p.name, p.value])).toString();
    return this.request('POST', `/${resourceType}/_search`, {
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /** Turns an absolute `next` link from the backend into a target below the backend base. */
  private targetOf(link: string): string {
    const base = this.backend.baseUrl;
    if (link.startsWith(base)) return link.slice(base.length) || '/';
    const url = new URL(link, `${base}/`);
    const basePath = new URL(base).pathname.replace(/\/+$/, '');
    if (!url.pathname.startsWith(basePath)) {
      throw new GatewayError(
        502,
        'backend_paging',
        'The FHIR server returned a paging link outside its base',
      );
    }
    return url.pathname.slice(basePath.length) + url.search;
  }
}

interface BundleShape {
  resourceType: 'Bundle';
  entry?: { resource?: Record<string, unknown>; search?: { mode?: string } }[];
  link?: { relation: string; url: string }[];
}

function isBundle(body: unknown): body is BundleShape {
  return (
    typeof body === 'object' &&
    body !== null &&
    (body as { resourceType?: unknown }).resourceType === 'Bundle'
  );
}

/**
 * Paging is bound to the caller (issue 8): HAPI `_getpages` continuations are authenticated, tied
 * to the user who started the search, authorized as a search of its type and checked like the
 * first page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import type { RawResponse } from '../support/http.js';
import { send } from '../support/http.js';
import { android, type SecurityStack, startSecurityStack, web } from './security-stack.js';

const next = (response: RawResponse) =>
  (response.json() as unknown as Bundle).link?.find((l) => l.relation === 'next')?.url;
const ids = (response: RawResponse) =>
  ((response.json() as unknown as Bundle).entry ?? []).map(
    (e) => `${e.resource?.resourceType}/${e.resource?.id}`,
  );

describe('HAPI paging continuations', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack(
      { PAGING_LINK_KEY: 'a-test-key-that-is-long-enough-0123456789' },
      { paging: 'hapi' },
    );
  });
  after(() => s.close());

  const admin = web('GET_PATIENT', 'GET_OBSERVATION');

  test('R1 — a continuation page gets the same post-filtering as page 1', async () => {
    const user = android('GET_PATIENT', 'GET_OBSERVATION');
    const first = await s.call(user, 'GET', 'Patient?_revinclude=Observation:subject&_count=1');
    assert.equal(first.status, 200, first.text);
    const seen = [...ids(first)];
    let url = next(first);
    let pages = 0;
    while (url !== undefined && pages < 50) {
      const page = await s.follow(user, url);
      assert.equal(page.status, 200, page.text);
      seen.push(...ids(page));
      url = next(page);
      pages++;
    }
    assert.ok(pages >= 2, `followed ${pages} continuation pages`);
    assert.ok(seen.includes(`Patient/${s.p2}`), 'the page of p2 (whose Observations include o-x9) was seen');
    assert.ok(!seen.includes('Observation/o-x9'), `o-x9 is tagged L9: ${seen.join(', ')}`);
    assert.ok(!seen.includes('Patient/p9'));
  });

  test('R1 variant — a WEB user without GET_OBSERVATION gets no Observation from a continuation', async () => {
    const starter = web('GET_PATIENT', 'GET_OBSERVATION');
    const first = await s.call(starter, 'GET', 'Observation?_count=1');
    const url = next(first);
    assert.ok(url, 'a next link');
    // The same user with fewer roles (a new token) follows it.
    const page = await s.follow(web('GET_PATIENT'), url);
    assert.equal(page.status, 403, page.text);
    assert.deepEqual(s.forwarded(), []);
  });

  test('R2 — a paging link replayed by another user, or a token with no client role, is refused', async () => {
    const first = await s.call(admin, 'GET', 'Observation?_count=1');
    const url = next(first) ?? '';
    assert.ok(url.includes('_getpages='), url);
    assert.equal((await s.follow(admin, url)).status, 200, 'its own user follows it');

    const other = await s.follow({ ...admin, sub: 'kc-other' }, url);
    assert.equal(other.status, 403, other.text);
    assert.match(other.text, /not issued to this user/);
    assert.equal((await s.follow({ client: 'none', roles: [] }, url)).status, 403);
    assert.equal((await s.follow({ client: 'both', roles: ['GET_OBSERVATION'] }, url)).status, 403);
    assert.deepEqual(s.forwarded(), []);

    // The raw search id, without the gateway's signature, is refused too.
    const raw = new URL(url);
    raw.searchParams.set('_getpages', raw.searchParams.get('_getpages')!.split('~')[0]!);
    assert.equal((await s.follow(admin, raw.toString())).status, 403);
    // Without a token: 401, nothing forwarded.
    const anonymous = await send(s.stack.gatewayUrl, {
      path: `${new URL(url).pathname}${new URL(url).search}`,
    });
    assert.equal(anonymous.status, 401);
    assert.deepEqual(s.forwarded(), []);
  });

  test('R2 variant — the type a link was signed for cannot be swapped', async () => {
    const first = await s.call(admin, 'GET', 'Observation?_count=1');
    const url = new URL(next(first)!);
    const [id, , signature] = url.searchParams.get('_getpages')!.split('~');
    url.searchParams.set('_getpages', [id, 'Patient', signature].join('~'));
    assert.equal((await s.follow(web('GET_PATIENT'), url.toString())).status, 403);
  });

  test('R3 — blank or malformed _getpages → 400, nothing forwarded', async () => {
    for (const query of [
      '_getpages=&_type=Patient,Observation',
      '_getpages=a%20b',
      '_getpages=x&_getpages=y',
    ]) {
      const response = await s.call({ client: 'none', roles: [] }, 'GET', `?${query}`);
      assert.equal(response.status, 400, `${query}: ${response.text}`);
    }
    assert.deepEqual(s.forwarded(), []);
  });
});

/**
 * GCP page tokens (`Type?_page_token=…`, params echoed) name a stored search as `_getpages` does:
 * the same binding to the user and the type, and the same checked answer.
 */
describe('GCP page-token continuations', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack(
      { PAGING_LINK_KEY: 'a-test-key-that-is-long-enough-0123456789' },
      { paging: 'gcp' },
    );
  });
  after(() => s.close());

  const admin = web('GET_PATIENT', 'GET_OBSERVATION');
  const token = (url: string) => new URL(url).searchParams.get('_page_token') ?? '';

  test('R1 (GCP) — every page an Android user follows holds only what they may see', async () => {
    const user = android('GET_PATIENT', 'GET_OBSERVATION');
    const first = await s.call(user, 'GET', 'Observation?_count=1');
    assert.equal(first.status, 200, first.text);
    const seen = [...ids(first)];
    let url = next(first);
    let pages = 0;
    while (url !== undefined && pages < 50) {
      assert.ok(token(url).split('~').length === 3, `a signed token: ${url}`);
      assert.ok(!new URL(url).searchParams.has('_tag'), 'no injected _tag in the link');
      const page = await s.follow(user, url);
      assert.equal(page.status, 200, page.text);
      seen.push(...ids(page));
      url = next(page);
      pages++;
    }
    assert.ok(pages >= 1, `followed ${pages} continuation pages`);
    assert.ok(!seen.includes('Observation/o-x9'), `o-x9 is tagged L9: ${seen.join(', ')}`);
  });

  test('R2 (GCP) — a page token replayed by another user, unsigned, or moved to another type → 403, nothing forwarded', async () => {
    const first = await s.call(admin, 'GET', 'Observation?_count=1');
    const url = next(first) ?? '';
    assert.ok(url.includes('_page_token='), url);
    assert.equal((await s.follow(admin, url)).status, 200, 'its own user follows it');

    const other = await s.follow({ ...admin, sub: 'kc-other' }, url);
    assert.equal(other.status, 403, other.text);
    assert.match(other.text, /not issued to this user/);

    const raw = new URL(url);
    raw.searchParams.set('_page_token', token(url).split('~')[0]!);
    assert.equal((await s.follow(admin, raw.toString())).status, 403, 'the raw token');

    const moved = new URL(url);
    moved.pathname = moved.pathname.replace(/Observation$/, 'Patient');
    assert.equal((await s.follow(admin, moved.toString())).status, 403, 'another type');

    const twice = new URL(url);
    twice.searchParams.append('_page_token', token(url));
    assert.equal((await s.follow(admin, twice.toString())).status, 403, 'two tokens');
    assert.deepEqual(s.forwarded(), []);
  });

  test('U (GCP) — a page token never rides on an unauthenticated request', async () => {
    const first = await s.call(admin, 'GET', 'Observation?_count=1');
    const url = new URL(next(first)!);
    const before = s.forwarded().length;
    const anonymous = await send(s.stack.gatewayUrl, { path: `${url.pathname}${url.search}` });
    assert.equal(anonymous.status, 401, anonymous.text);
    assert.equal(s.forwarded().length, before, 'nothing more reached the backend');
  });
});

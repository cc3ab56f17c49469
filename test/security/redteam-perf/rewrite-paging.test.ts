/**
 * Red team of the hot-path changes to answer rewriting and paging links (89f9e33, a1c71bd,
 * 94060d9): the base URL searched as latin1 text with fullUrls told by a string compare, the
 * signer's key and markers, and per-request memos on mutated request copies. Each test is an
 * attack; it passes when the gateway refuses it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import type { RawResponse } from '../../support/http.js';
import { PERSONAS, TAG_SYSTEMS } from '../../support/opensrp-dataset.js';
import { android, type SecurityStack, startSecurityStack, web } from '../security-stack.js';

const links = (response: RawResponse) => ((response.json() as unknown as Bundle).link ?? []).map((l) => l.url);
const next = (response: RawResponse) =>
  (response.json() as unknown as Bundle).link?.find((l) => l.relation === 'next')?.url;
const ids = (response: RawResponse) =>
  ((response.json() as unknown as Bundle).entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
/** What an Android user may never see (catalogue "L9 data"). */
const OUTSIDE = ['Patient/p9', 'Observation/o9', 'Observation/o-x9'];

/** Multi-byte text of every UTF-8 length, so latin1 offsets would drift from char offsets. */
const WIDE = 'é漢😀ß€'.repeat(40);

describe('red team (perf): base-URL rewrite and paging links', () => {
  let s: SecurityStack;
  let backend: string;
  let gateway: string;
  before(async () => {
    s = await startSecurityStack(
      { PAGING_LINK_KEY: 'a-redteam-perf-key-long-enough-0123456789' },
      { paging: 'hapi' },
    );
    backend = s.fhir.baseUrl;
    gateway = `${s.stack.gatewayUrl}/fhir`;
    const tag = { tag: [{ system: TAG_SYSTEMS.location, code: PERSONAS.worker.facility }] };
    // In-scope Patients whose text imitates what the rewrite looks for: a fullUrl prefix before a
    // paging link, escaped quotes, and wide characters before each URL.
    const planted = (n: number): Patient => ({
      resourceType: 'Patient',
      id: `rp-${n}`,
      meta: tag,
      name: [
        {
          family: `Wide${n}`,
          text: `${WIDE}"fullUrl":"${backend}?_getpages=planted-${n}&_tag=x ${WIDE} ${backend}/Patient?_getpages=p2-${n}`,
        },
      ],
    });
    for (let n = 0; n < 6; n++) await s.fhir.create(planted(n));
    // Enough wide in-scope Patients that one page is a large body, streamed in several chunks.
    for (let n = 0; n < 120; n++) {
      await s.fhir.create<Patient>({
        resourceType: 'Patient',
        id: `rb-${n}`,
        meta: tag,
        name: [{ family: `Bulk${n}`, text: WIDE.repeat(4) }],
      });
    }
  });
  after(() => s.close());

  function assertLinksSafe(response: RawResponse, where: string): void {
    const at = response.text.indexOf(backend);
    assert.ok(at === -1, `${where}: the backend base leaked: ${response.text.slice(Math.max(0, at - 120), at + 120)}`);
    for (const url of links(response)) {
      assert.ok(url?.startsWith(gateway), `${where}: link not on the gateway: ${url}`);
      const query = new URL(url!).searchParams;
      assert.ok(!query.has('_tag'), `${where}: the injected _tag is in a link: ${url}`);
      const paging = query.get('_getpages');
      if (paging !== null) assert.equal(paging.split('~').length, 3, `${where}: unsigned link ${url}`);
    }
  }

  test('links after wide text and fake fullUrls are signed, lose the injected _tag, stay in scope', async () => {
    const user = android('GET_PATIENT');
    let page = await s.call(user, 'GET', 'Patient?family:contains=Wide&_count=2');
    assert.equal(page.status, 200, page.text);
    const seen: string[] = [];
    for (let pages = 0; pages < 10; pages++) {
      assertLinksSafe(page, `page ${pages}`);
      seen.push(...ids(page));
      const url = next(page);
      if (url === undefined) break;
      page = await s.follow(user, url);
      assert.equal(page.status, 200, page.text);
    }
    assert.ok(seen.length >= 6, seen.join(', '));
    assert.ok(!seen.some((id) => OUTSIDE.includes(id)));
    // Wide text passes through byte for byte (no offset drift), the base URL in it rewritten.
    const one = await s.call(user, 'GET', 'Patient/rp-0');
    assert.equal(one.status, 200, one.text);
    const text = (one.json() as unknown as Patient).name?.[0]?.text ?? '';
    assert.ok(text.startsWith(`${WIDE}"fullUrl":"${gateway}?_getpages=`), text.slice(0, 400));
    assert.ok(text.includes(WIDE), 'wide characters intact');
  });

  test('a JSON string opening with a base URL, then a space and another: both rewritten', async () => {
    const user = android('GET_PATIENT');
    const tag = { tag: [{ system: TAG_SYSTEMS.location, code: PERSONAS.worker.facility }] };
    const text = `${backend}/Patient?a=1 ${backend}/Patient?_getpages=q`;
    await s.fhir.create<Patient>({ resourceType: 'Patient', id: 'rp-two', meta: tag, name: [{ text }] });
    const one = await s.call(user, 'GET', 'Patient/rp-two');
    assert.equal(one.status, 200, one.text);
    assert.ok(!one.text.includes(backend), one.text);
  });

  test('a streamed large page (many chunks, wide text) keeps every link signed and the _tag out', async () => {
    const user = android('GET_PATIENT');
    const first = await s.call(user, 'GET', 'Patient?family:contains=Bulk&_count=60');
    assert.equal(first.status, 200, first.text);
    assert.ok(first.bytes.length > 64 * 1024, `a page of ${first.bytes.length} bytes`);
    assertLinksSafe(first, 'page 1');
    const url = next(first);
    assert.ok(url, 'a next link');
    const second = await s.follow(user, url);
    assert.equal(second.status, 200, second.text);
    assertLinksSafe(second, 'page 2');
    assert.ok(!ids(second).some((id) => OUTSIDE.includes(id)));
  });

  test('a paging-looking URL planted in a resource gives no other search or out-of-scope data', async () => {
    // An admin's stored search with L9 data, whose raw id the attacker learnt somehow.
    const admin = web('GET_PATIENT', 'GET_OBSERVATION');
    const adminPage = await s.call(admin, 'GET', 'Observation?_count=1');
    const adminLink = new URL(next(adminPage)!);
    const victimId = adminLink.searchParams.get('_getpages')!.split('~')[0]!;
    const attacker = android('GET_PATIENT', 'POST_PATIENT', 'PUT_PATIENT');
    const body: Patient = {
      resourceType: 'Patient',
      id: 'rp-planter',
      meta: { tag: [{ system: TAG_SYSTEMS.location, code: PERSONAS.worker.facility }] },
      name: [{ text: `${backend}?_getpages=${victimId}&_getpagesoffset=0&_count=50` }],
    };
    const put = await s.call(attacker, 'PUT', 'Patient/rp-planter', { body });
    assert.ok(put.status === 201 || put.status === 200 || put.status === 403, put.text);
    const read = await s.call(attacker, 'GET', 'Patient/rp-planter');
    const text = read.status === 200 ? ((read.json() as unknown as Patient).name?.[0]?.text ?? '') : '';
    if (!text.startsWith(gateway)) return;
    const follow = await s.follow(attacker, text);
    assert.ok(follow.status < 500, follow.text);
    if (follow.status === 200) {
      const got = ids(follow);
      assert.ok(!got.some((id) => OUTSIDE.includes(id)), `planted link leaked: ${got.join(', ')}`);
      assert.ok(!got.some((id) => id.startsWith('Observation/')), `no GET_OBSERVATION: ${got.join(', ')}`);
    }
  });

  test('a continuation with joins or a _tag appended (a mutated copy of the opened request) stays in scope', async () => {
    const user = android('GET_PATIENT', 'GET_OBSERVATION');
    const first = await s.call(user, 'GET', `Patient?_id=${s.p2}&_count=1`);
    assert.equal(first.status, 200, first.text);
    const url = next(first) ?? `${gateway}?_getpages=none`;
    for (const extra of [
      '&_revinclude=Observation:subject',
      '&_include=*&_revinclude=*',
      `&_tag=${encodeURIComponent(`${TAG_SYSTEMS.location}|p9`)}`,
      '&_has:Observation:subject:code=secret',
    ]) {
      const page = await s.follow(user, `${url}${extra}`);
      assert.ok(page.status < 500, `${extra}: ${page.status} ${page.text}`);
      if (page.status === 200) {
        const got = ids(page);
        assert.ok(!got.some((id) => OUTSIDE.includes(id)), `${extra}: ${got.join(', ')}`);
      }
    }
  });

  test('XML answers: links rewritten and signed, no backend base, or refused', async () => {
    const user = android('GET_PATIENT');
    const page = await s.call(user, 'GET', 'Patient?family:contains=Wide&_count=2&_format=xml');
    assert.ok(page.status === 200 || page.status === 406, `${page.status} ${page.text.slice(0, 300)}`);
    if (page.status !== 200) return;
    assert.ok(!page.text.includes(backend), 'the backend base leaked');
    for (const match of page.text.matchAll(/<url value="([^"]*)"/g)) {
      const url = match[1]!.replaceAll('&amp;', '&');
      assert.ok(url.startsWith(gateway), url);
      assert.ok(!/[?&]_tag=/.test(url), `injected _tag in ${url}`);
      const paging = new URL(url).searchParams.get('_getpages');
      if (paging !== null) assert.equal(paging.split('~').length, 3, `unsigned ${url}`);
    }
  });
});

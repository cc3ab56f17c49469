/**
 * RT2 — a JSON Patch is applied by the gateway (to judge the patched result, W3) without bounding
 * the result: each `copy` of an array into itself doubles it, so a patch of a few hundred bytes
 * makes a resource of any size. With BODY_LIMIT_BYTES=64 KiB, 14 operations (about 650 bytes)
 * store an 885 KB Patient; 30 operations ask the gateway for about 45 GB (heap exhaustion kills
 * the process, and every user with it). The safe answer refuses the patch (413, or 400) before
 * anything is forwarded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { android, type SecurityStack, startSecurityStack } from '../security-stack.js';
import { bundleOf } from './redteam-kit.js';

const JSON_PATCH = 'application/json-patch+json';
const doublings = (n: number) =>
  Array.from({ length: n }, () => ({ op: 'copy', from: '/name', path: '/name/-' }));

describe('RT2 JSON Patch amplification', () => {
  let s: SecurityStack;
  before(async () => {
    s = await startSecurityStack({ BODY_LIMIT_BYTES: '65536' });
  });
  after(() => s.close());

  const patcher = android('GET_PATIENT', 'PATCH_PATIENT');

  test('RT2 PATCH Patient/<in-scope> with 14 self-copies (650 bytes, result > BODY_LIMIT_BYTES) → 413/400, not forwarded', async () => {
    const body = JSON.stringify(doublings(14));
    assert.ok(body.length < 1024);
    const response = await s.call(patcher, 'PATCH', `Patient/${s.p1}`, {
      body,
      headers: { 'content-type': JSON_PATCH },
    });
    assert.ok([400, 413].includes(response.status), `${response.status}: ${response.text.slice(0, 200)}`);
    assert.deepEqual(
      s.forwarded().filter((line) => line.startsWith('PATCH')),
      [],
      'the amplified patch was forwarded',
    );
  });

  test('RT2 variant: the same patch as a transaction Binary entry → refused, not forwarded', async () => {
    const response = await s.call(patcher, 'POST', '', {
      body: bundleOf('transaction', [
        {
          request: { method: 'PATCH', url: `Patient/${s.p2}` },
          resource: {
            resourceType: 'Binary',
            contentType: JSON_PATCH,
            data: Buffer.from(JSON.stringify(doublings(14))).toString('base64'),
          },
        },
      ]),
    });
    assert.ok(
      [400, 403, 413].includes(response.status),
      `${response.status}: ${response.text.slice(0, 200)}`,
    );
    const patched = await s.fhir.repo.readResource('Patient', s.p2);
    assert.ok(JSON.stringify(patched).length < 65536, 'the stored Patient grew past the body limit');
  });
});

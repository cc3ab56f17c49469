/**
 * The canned answers of the benchmark upstream: Patient searchsets of 20 entries (~5 KB) and 200
 * entries (~50 KB), whose `fullUrl`s and links carry the upstream's base URL so that the gateway
 * has something to rewrite, as it would with a real FHIR server.
 */

function patient(base: string, n: number): Record<string, unknown> {
  const id = `p${String(n).padStart(5, '0')}`;
  return {
    fullUrl: `${base}/Patient/${id}`,
    resource: {
      resourceType: 'Patient',
      id,
      meta: { versionId: '1' },
      name: [{ family: `Family${n}`, given: ['Test'] }],
      gender: n % 2 === 0 ? 'female' : 'male',
      birthDate: '1990-01-01',
    },
    search: { mode: 'match' },
  };
}

/** A searchset Bundle of `count` Patients, serialized. */
export function patientSearchset(base: string, count: number): string {
  return JSON.stringify({
    resourceType: 'Bundle',
    id: `bench-searchset-${count}`,
    meta: { lastUpdated: '2024-05-01T10:00:00.000Z' },
    type: 'searchset',
    total: count,
    link: [
      { relation: 'self', url: `${base}/Patient?_count=${count}` },
      { relation: 'next', url: `${base}?_getpages=bench&_getpagesoffset=${count}&_count=${count}` },
    ],
    entry: Array.from({ length: count }, (_, i) => patient(base, i)),
  });
}

export const SMALL_COUNT = 20;
export const LARGE_COUNT = 200;

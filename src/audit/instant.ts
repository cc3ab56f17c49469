/**
 * FHIR `instant` text (ISO 8601, UTC, milliseconds) of a time in ms since the epoch, as
 * `Date#toISOString` writes it. Every audited request needs two, and `toISOString` costs about
 * 2 µs each (a runtime call): the text up to the seconds is made once per second and reused.
 */
export function isoInstant(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cached.second) {
    const text = new Date(second * 1000).toISOString();
    // Years outside 0000-9999 are written with a sign and six digits: not worth a shortcut.
    if (text.length !== 24) return new Date(ms).toISOString();
    cached.second = second;
    cached.prefix = text.slice(0, 20);
  }
  const millis = ms - second * 1000;
  return `${cached.prefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

const cached = { second: Number.NaN, prefix: '' };

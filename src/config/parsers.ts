/**
 * zod schemas for the kinds of values environment variables hold. Each takes the trimmed string
 * (or undefined when unset) and yields a typed value; its issue messages say what is wrong without
 * naming the variable, which the loader prefixes.
 */
import { z } from 'zod';

/** setTimeout treats larger delays as 1 ms, so no timer setting may exceed this. */
export const MAX_TIMER_MS = 2_147_483_647;

const quoted = (value: string) => JSON.stringify(value);

/** Any string; `is required` when unset. */
export const requiredText = () => z.string({ error: 'is required but not set' });

/** A whole number in [min, max]; rejects signs, decimals, exponents and words. */
export function wholeNumber(min: number, max: number) {
  return z.string().transform((raw, ctx) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a whole number from ${min} to ${max}, got ${quoted(raw)}`,
      });
      return z.NEVER;
    }
    return value;
  });
}

export const port = () => wholeNumber(0, 65_535);

/** An absolute http(s) URL. */
export function httpUrl() {
  return z.string().superRefine((raw, ctx) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be an absolute http(s) URL, got ${quoted(raw)}` });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `must be an http or https URL, got ${quoted(raw)}` });
    }
  });
}

/** A comma-separated list of non-empty, distinct names, each trimmed. */
export function commaList(what: string) {
  return z.string().transform((raw, ctx) => {
    const names = raw.split(',').map((name) => name.trim());
    if (names.some((name) => name === '')) {
      ctx.addIssue({ code: 'custom', message: `has an empty ${what} in ${quoted(raw)}` });
      return z.NEVER;
    }
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (repeated !== undefined) {
      ctx.addIssue({ code: 'custom', message: `names ${what} ${quoted(repeated)} twice` });
      return z.NEVER;
    }
    return names;
  });
}

/** `true`/`false`/`1`/`0`, case-insensitive. */
export function flag() {
  return z.string().transform((raw, ctx) => {
    const value = raw.toLowerCase();
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    ctx.addIssue({ code: 'custom', message: `must be true, false, 1 or 0, got ${quoted(raw)}` });
    return z.NEVER;
  });
}

/** One of the given values, compared case-insensitively after lower-casing. */
export function lowerCaseChoice<const T extends string>(choices: readonly T[]) {
  return z.string().transform((raw, ctx) => {
    const value = raw.toLowerCase();
    const choice = choices.find((candidate) => candidate === value);
    if (choice === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${choices.join(', ')}, got ${quoted(raw)}` });
      return z.NEVER;
    }
    return choice;
  });
}

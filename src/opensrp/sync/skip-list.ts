/**
 * The sync-filter skip-list (SYNC_FILTER_IGNORE_RESOURCES_FILE): requests the data access checker
 * never narrows. Same file format and matching as the Java plugin (opensrp-plugins spec §3.6),
 * read once at start instead of on every request.
 *
 * Matching, first deciding entry wins: the path must equal the request path exactly and the method
 * (when given) must equal; then for each expected param in order: absent from the request → match;
 * `ANY_VALUE` → match; the request repeats it → no match; a list value → match when the comma-split
 * request value holds the same ids (order-insensitive multiset); an equal string → match; otherwise
 * the next expected param decides. An entry with no params never matches.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../../config/config-error.js';
import type { QueryParam } from '../../fhir/request.js';

const VARIABLE = 'SYNC_FILTER_IGNORE_RESOURCES_FILE';
export const ANY_VALUE = 'ANY_VALUE';

/** The file the image ships (the spec's list of config resource types). */
export const DEFAULT_SKIP_LIST_FILE = fileURLToPath(
  new URL('../../../resources/hapi_sync_filter_ignored_queries.json', import.meta.url),
);

const entrySchema = z.object({
  path: z.string({ error: 'is required (a string)' }),
  methodType: z
    .string({ error: 'must be a string (an HTTP method)' })
    .nullish()
    .transform((v) => v ?? undefined),
  queryParams: z
    .record(z.string(), z.union([z.string(), z.array(z.string())]), {
      error: 'must map param names to a value, "ANY_VALUE" or a list of values',
    })
    .nullish()
    .transform((v) => v ?? {}),
});

const fileSchema = z.object(
  { entries: z.array(entrySchema, { error: 'must be an array of entries' }) },
  { error: 'must be a JSON object with an "entries" array' },
);

export type SkipListEntry = z.output<typeof entrySchema>;

/** What the skip-list is matched against: a path below the base, a method, decoded params. */
export interface SkipListQuery {
  readonly path: string;
  readonly method: string;
  readonly query: readonly QueryParam[];
}

export class SkipList {
  constructor(readonly entries: readonly SkipListEntry[]) {}

  matches(request: SkipListQuery): boolean {
    for (const entry of this.entries) {
      if (entry.path !== request.path) continue;
      if (entry.methodType !== undefined && entry.methodType !== request.method) continue;
      const decided = decide(entry.queryParams, request.query);
      if (decided !== undefined) return decided;
    }
    return false;
  }
}

function decide(
  expected: Readonly<Record<string, string | string[]>>,
  query: readonly QueryParam[],
): boolean | undefined {
  for (const [name, wanted] of Object.entries(expected)) {
    const values = query.filter((p) => p.name === name).map((p) => p.value);
    if (values.length === 0) return true;
    if (wanted === ANY_VALUE) return true;
    if (values.length !== 1) return false;
    const value = values[0]!;
    if (Array.isArray(wanted)) return sameMultiset(value.split(','), wanted);
    if (wanted === value) return true;
  }
  return undefined;
}

function sameMultiset(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sortedA = [...a].sort();
  const sortedB = [...b].sort();
  return sortedA.every((value, i) => value === sortedB[i]);
}

/** Reads the file (the shipped default when `path` is undefined); throws ConfigError naming the problem. */
export function loadSkipList(path: string | undefined): SkipList {
  const file = path ?? DEFAULT_SKIP_LIST_FILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(VARIABLE, `${file}: cannot be read (${code})`, { cause: error });
  }
  return parseSkipList(text, file);
}

export function parseSkipList(text: string, source: string): SkipList {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(VARIABLE, `${source}: is not valid JSON (${(error as Error).message})`);
  }
  const result = fileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const at = issue?.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('') ?? '';
    throw new ConfigError(VARIABLE, `${source}: ${at.replace(/^\./, '')} ${issue?.message ?? 'is invalid'}`);
  }
  return new SkipList(result.data.entries);
}

/**
 * Reads the allowed-queries file named by ALLOWED_QUERIES_FILE, once, at start. The format is the
 * Java gateway's (`{"entries": [...]}`), so existing files keep working. Any problem stops the start
 * with a ConfigError that names the entry at fault.
 *
 * Differences from upstream, all on inputs it would crash on or misread:
 * - a missing or null `queryParams` means `{}` (upstream throws a NullPointerException per request);
 * - fields of the wrong type are refused at load (upstream's Gson coerces some, fails on others);
 * - unknown fields are ignored as upstream does, but reported by `AllowedQueries.warnings()`,
 *   because a misspelt `requestType` silently allows every method.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config/config-error.js';
import { AllowedQueries, type AllowedQueryEntry } from './allowed-queries.js';

const VARIABLE = 'ALLOWED_QUERIES_FILE';

const KNOWN_FIELDS = new Set([
  'path',
  'requestType',
  'queryParams',
  'allowExtraParams',
  'allParamsRequired',
  'allowUnauthenticatedRequests',
]);

const isAbsent = (input: unknown) => input === undefined || input === null;

const optionalFlag = z
  .boolean({ error: 'must be true or false' })
  .nullish()
  .transform((value) => value ?? false);

const entrySchema = z.object(
  {
    path: z.string({ error: (issue) => (isAbsent(issue.input) ? 'is required' : 'must be a string') }),
    requestType: z
      .string({ error: 'must be a string (an HTTP method)' })
      .nullish()
      .transform((value) => value ?? undefined),
    queryParams: z
      .record(z.string(), z.string({ error: 'must be a string (a value or "ANY_VALUE")' }), {
        error: 'must be an object mapping param names to values',
      })
      .nullish()
      .transform((value): Record<string, string> => value ?? {}),
    allowExtraParams: optionalFlag,
    allParamsRequired: optionalFlag,
    allowUnauthenticatedRequests: optionalFlag,
  },
  { error: 'must be an object' },
);

const fileSchema = z.object(
  { entries: z.array(entrySchema, { error: 'must be an array of entries' }) },
  { error: 'must be a JSON object with an "entries" array' },
);

/** Reads and validates the file; throws ConfigError for ALLOWED_QUERIES_FILE. */
export function loadAllowedQueries(path: string): AllowedQueries {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(VARIABLE, `${path}: cannot be read (${code})`, { cause: error });
  }
  return parseAllowedQueries(text, path);
}

/** Validates the text of an allowed-queries file; `source` names it in errors. */
export function parseAllowedQueries(text: string, source: string): AllowedQueries {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(VARIABLE, `${source}: is not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  const result = fileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const at = issue === undefined ? '' : issuePath(issue.path);
    throw new ConfigError(VARIABLE, `${source}: ${at}${issue?.message ?? 'is invalid'}`);
  }
  const entries: AllowedQueryEntry[] = result.data.entries;
  return new AllowedQueries(entries, unknownFieldWarnings(json, source));
}

/** `entries[2].queryParams._count: ` for zod's `['entries', 2, 'queryParams', '_count']`. */
function issuePath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    text += typeof key === 'number' ? `[${key}]` : text === '' ? String(key) : `.${String(key)}`;
  }
  return text === '' ? '' : `${text}: `;
}

function unknownFieldWarnings(json: unknown, source: string): string[] {
  const file = json as { entries: Record<string, unknown>[] };
  const warnings: string[] = [];
  for (const key of Object.keys(file)) {
    if (key !== 'entries')
      warnings.push(`${VARIABLE}: ${source}: unknown field ${JSON.stringify(key)} is ignored`);
  }
  file.entries.forEach((entry, index) => {
    for (const key of Object.keys(entry)) {
      if (!KNOWN_FIELDS.has(key)) {
        warnings.push(
          `${VARIABLE}: ${source}: entries[${index}]: unknown field ${JSON.stringify(key)} is ignored`,
        );
      }
    }
  });
  return warnings;
}

/**
 * `npm run test:security -- --runs=N [--checker=C] [--seed=S] [--requests=M] [--shrink] [--path=P]`:
 * the property test of harness.ts run by hand, longer than in CI. `--checker` is `permission`,
 * `patient`, `list`, `patient,list` or `all` (the default: each in turn, N worlds each). Prints
 * what failed, then per checker the summary line "N requests, N refused, N forwarded, N leaked";
 * exits 1 when any invariant broke.
 */
import { ALL_CHECKERS, type Checker, runProperty, summaryLine } from './harness.js';

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [name, value] = arg.replace(/^--/, '').split('=');
    return [name ?? '', value ?? 'true'] as const;
  }),
);
const number = (name: string, fallback: number) => {
  const value = Number(args.get(name) ?? fallback);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${name} must be a whole number`);
    process.exit(2);
  }
  return value;
};

const runs = number('runs', 10);
const seed = number('seed', Date.now() % 2 ** 31);
const requests = number('requests', 30);
const chosen = args.get('checker') ?? 'all';
const checkers: readonly Checker[] =
  chosen === 'all' ? ALL_CHECKERS : ALL_CHECKERS.filter((c) => c === chosen);
if (checkers.length === 0) {
  console.error(`--checker must be one of ${ALL_CHECKERS.join(', ')}, or all`);
  process.exit(2);
}
let failed = false;
for (const checker of checkers) {
  const started = Date.now();
  console.log(
    `property test, ACCESS_CHECKER=${checker}: ${runs} worlds of about ${requests} requests, seed ${seed}`,
  );
  const result = await runProperty({
    runs,
    seed,
    checker,
    requestsPerWorld: { min: Math.max(1, Math.floor(requests / 2)), max: Math.max(1, requests) },
    shrink: args.has('shrink'),
    ...(args.has('verbose') ? { trace: (line: string) => console.log(line) } : {}),
    ...(args.has('path') ? { path: args.get('path')! } : {}),
  });
  if (result.failure) console.log(`\nFAILED (${checker}): ${result.failure}\n`);
  failed ||= result.failure !== undefined;
  console.log(`${checker}: ${((Date.now() - started) / 1000).toFixed(1)} s, ${summaryLine(result.stats)}`);
}
process.exit(failed ? 1 : 0);

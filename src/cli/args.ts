/**
 * The command line: `fhir-gateway [start | check-config [--online] | explain ... | help]`.
 * Configuration never comes from arguments, only from the environment (docs/configuration.md);
 * arguments choose what to do with it.
 */
import { parseArgs } from 'node:util';

export const USAGE = `usage: fhir-gateway [command]

Configuration is read from the environment (docs/configuration.md).

commands:
  start                       validate the configuration, then serve (the default)
  check-config [--online]     validate exactly as start does, without listening, and print the
                              effective configuration (secrets hidden); --online also loads the
                              token issuer's discovery and keys and asks the FHIR server for metadata
  explain --token <jwt | file> [--json] [--body <file>] [--content-type <type>]
          [--header "Name: value"]... "<METHOD> /fhir/<path>"
                              decide one request as the gateway would (authentication, allowed
                              queries, every checker, with the FHIR server's lookups) and show the
                              decision, its reason, the mutation and the exact upstream request,
                              without sending that request; a file of bare JSON claims skips the
                              signature check
  help, --help, -h            print this text

exit status: 0 valid / granted, 1 runtime failure, 2 bad configuration or usage, 3 denied (explain)`;

export type Command =
  | { readonly name: 'start' }
  | { readonly name: 'help' }
  | { readonly name: 'check-config'; readonly online: boolean }
  | {
      readonly name: 'explain';
      readonly token: string;
      readonly request: string;
      readonly json: boolean;
      readonly bodyFile?: string;
      readonly contentType?: string;
      readonly headers: readonly string[];
    };

/** A command line that cannot be run; main prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const HELP = new Set(['help', '--help', '-h']);

export function parseCommand(argv: readonly string[]): Command {
  const [name = 'start', ...rest] = argv;
  if (HELP.has(name) || rest.some((arg) => arg === '--help' || arg === '-h')) return { name: 'help' };
  switch (name) {
    case 'start':
      parse(rest, {});
      return { name: 'start' };
    case 'check-config': {
      const { values } = parse(rest, { online: { type: 'boolean' } });
      return { name: 'check-config', online: values.online === true };
    }
    case 'explain':
      return explainCommand(rest);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  }
}

function explainCommand(args: readonly string[]): Command {
  const { values, positionals } = parse(
    args,
    {
      token: { type: 'string' },
      json: { type: 'boolean' },
      body: { type: 'string' },
      'content-type': { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
    },
    true,
  );
  if (values.token === undefined) throw new UsageError('explain needs --token <jwt | file>');
  const request = positionals.join(' ').trim();
  if (request === '') throw new UsageError('explain needs a request, e.g. "GET /fhir/Patient?name=x"');
  return {
    name: 'explain',
    token: values.token,
    request,
    json: values.json === true,
    ...(values.body === undefined ? {} : { bodyFile: values.body }),
    ...(values['content-type'] === undefined ? {} : { contentType: values['content-type'] }),
    headers: values.header ?? [],
  };
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse<T extends Options>(args: readonly string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

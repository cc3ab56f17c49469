/**
 * A local stand-in for the GCE metadata server, as google-auth-library and gcp-metadata reach it
 * through GCE_METADATA_HOST: every request must carry `Metadata-Flavor: Google` (403 otherwise, as
 * the real server answers), every answer carries it back (the library refuses answers without it).
 * Tokens are numbered, so a test sees which one reached the FHIR server.
 */
import { type FakeEndpoint, startFake } from './fake-endpoint.js';

export interface MetadataServer {
  readonly endpoint: FakeEndpoint;
  /** `host:port`, the value of GCE_METADATA_HOST. */
  readonly host: string;
  /** Tokens handed out, in order. */
  readonly tokens: string[];
  /** The `scopes` asked with each token. */
  readonly scopes: string[];
  /** Requests refused for lacking the header. */
  readonly withoutFlavor: number;
  /** Lifetime of the next tokens, in seconds. */
  ttlSeconds: number;
}

export async function startMetadataServer(): Promise<MetadataServer> {
  const state = { tokens: [] as string[], scopes: [] as string[], withoutFlavor: 0, ttlSeconds: 3600 };
  const endpoint = await startFake((req, res) => {
    const flavor = { 'metadata-flavor': 'Google' };
    if (req.headers['metadata-flavor'] !== 'Google') {
      state.withoutFlavor++;
      res
        .writeHead(403, { ...flavor, 'content-type': 'text/plain' })
        .end('Missing Metadata-Flavor:Google header.');
      return;
    }
    const url = new URL(req.url, 'http://metadata');
    if (url.pathname === '/computeMetadata/v1/instance' || url.pathname === '/computeMetadata/v1/instance/') {
      res.writeHead(200, { ...flavor, 'content-type': 'application/text' }).end('attributes/\nid\n');
      return;
    }
    if (url.pathname === '/computeMetadata/v1/instance/service-accounts/default/token') {
      const token = `ya29.local-${state.tokens.length + 1}-${crypto.randomUUID()}`;
      state.tokens.push(token);
      state.scopes.push(url.searchParams.get('scopes') ?? '');
      res
        .writeHead(200, { ...flavor, 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: token, expires_in: state.ttlSeconds, token_type: 'Bearer' }));
      return;
    }
    res.writeHead(404, { ...flavor, 'content-type': 'text/plain' }).end('not found');
  });
  return {
    endpoint,
    host: `127.0.0.1:${endpoint.port}`,
    tokens: state.tokens,
    scopes: state.scopes,
    get withoutFlavor() {
      return state.withoutFlavor;
    },
    get ttlSeconds() {
      return state.ttlSeconds;
    },
    set ttlSeconds(value: number) {
      state.ttlSeconds = value;
    },
  };
}

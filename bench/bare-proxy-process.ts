/**
 * The floor this design can reach (issue 13): a bare Node reverse proxy, `node:http` in front of a
 * pooled undici client, with no authentication, no parsing and no rewriting. Run in its own process
 * by bench/rows.ts so its CPU time can be read apart from the load generator's and the upstream's.
 * UPSTREAM is the upstream's origin.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';
import { announceReady } from './processes.js';

const upstream = new Pool(process.env.UPSTREAM ?? 'http://127.0.0.1:9', { connections: 128, pipelining: 1 });
/** Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's own, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);

const server = createServer((req, res) => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  upstream
    .request({ method: req.method as 'GET', path: req.url ?? '/', headers, body: hasBody ? req : null })
    .then(({ statusCode, headers: answer, body }) => {
      for (const name of HOP_BY_HOP) delete answer[name];
      res.writeHead(statusCode, answer as Record<string, string | string[]>);
      pipeline(body, res, () => {});
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  announceReady(`http://127.0.0.1:${port}`, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await upstream.close();
  });
});

/**
 * A stand-in FHIR server for the audit row's AuditEvents, in its own process: it reads each
 * transaction Bundle the gateway posts, counts it, and answers 200 at once, so that the row
 * measures what auditing costs the gateway rather than what storing events costs a FHIR server.
 * `GET /__bench/stats` says how many Bundles, AuditEvents and bytes arrived.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announceReady } from './processes.js';

const ENTRY = Buffer.from('"url":"AuditEvent"');
const stats = { bundles: 0, events: 0, bytes: 0 };

const server = createServer((req, res) => {
  if (req.url === '/__bench/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    stats.bundles++;
    stats.bytes += body.length;
    for (let at = body.indexOf(ENTRY); at !== -1; at = body.indexOf(ENTRY, at + ENTRY.length)) stats.events++;
    res
      .writeHead(200, { 'content-type': 'application/fhir+json' })
      .end('{"resourceType":"Bundle","type":"transaction-response"}');
  });
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  announceReady(`http://127.0.0.1:${port}/fhir`, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

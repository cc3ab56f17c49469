/**
 * A gateway in a process of its own, configured from its environment as `fhir-gateway` is, for
 * settings Node reads only at process start (NODE_EXTRA_CA_CERTS). Logs JSON lines on stdout at
 * LOG_LEVEL, then one `{"listening":"<url>"}` line.
 */
import pino from 'pino';
import { loadConfig } from '../../../src/config/index.js';
import { createGateway } from '../../../src/server/gateway.js';

const config = loadConfig(process.env);
const gateway = await createGateway(config, { env: process.env, logger: pino({ level: config.logLevel }) });
const url = await gateway.listen();
process.stdout.write(`${JSON.stringify({ listening: url })}\n`);
process.on('SIGTERM', () => {
  gateway.close().then(() => process.exit(0));
});

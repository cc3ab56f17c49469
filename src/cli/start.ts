import type { Environment } from '../config/index.js';
import { prepareGateway } from './prepare.js';

/**
 * `fhir-gateway start`: validate, listen, and drain on SIGTERM/SIGINT. Started as PID 1 (a
 * container's `node dist/main.js`), the process gets the signals itself, so the handlers must be
 * installed: Node ignores SIGTERM as PID 1 otherwise.
 */
export async function start(env: Environment): Promise<void> {
  const { config, gateway } = await prepareGateway(env);
  const log = gateway.app.log;
  const url = await gateway.listen();
  log.info({ url, backend: new URL(config.proxyTo).origin }, 'fhir-gateway listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, 'draining in-flight requests');
    const force = setTimeout(() => {
      log.error(
        { graceMs: config.shutdownGraceMs, setting: 'SHUTDOWN_GRACE_MS' },
        'requests still in flight after the shutdown grace: exiting without waiting for them',
      );
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * The gateway started the way docs/deployment.md says, as its own process: the image's entry command
 * (`node dist/main.js`) in an app directory (./app-dir.ts), with the image's environment plus the
 * test's, and PATH as the only variable of this machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../bench/nginx.js';
import { stopChild } from '../../bench/processes.js';
import type { AppDir } from './app-dir.js';

export interface GatewayProcess {
  /** e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** The environment it was started with (the image's, the test's, PATH). */
  readonly env: Readonly<Record<string, string>>;
  /** Everything it printed so far, stdout and stderr interleaved (the last 64 KB). */
  output(): string;
  /** Resolves when it exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it is still there after a few seconds. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts it and resolves once `/healthz` answers 200 (rejects, with its output, if it exits first). */
export async function startGatewayProcess(app: AppDir, env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  const fullEnv = { PATH: process.env.PATH ?? '', ...app.env, ...env, PROXY_PORT: String(port) };
  const [command, ...args] = app.command;
  if (!command) throw new Error('the image has no entry command');
  const child = spawn(command, args, { cwd: app.dir, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = once(child, 'exit').then(([code, signal]) => {
    live.delete(child);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const url = `http://127.0.0.1:${port}`;
  // Bounded only so that a gateway that never listens fails the test instead of hanging CI.
  for (let attempt = 0; ; attempt++) {
    if (gone) throw new Error(`the gateway exited before it served /healthz:\n${output}`);
    const healthy = await fetch(`${url}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (healthy) break;
    if (attempt > 1200) {
      child.kill('SIGKILL');
      throw new Error(`the gateway did not serve /healthz within a minute:\n${output}`);
    }
    await sleep(50);
  }
  return {
    url,
    port,
    child,
    env: fullEnv,
    output: () => output,
    exited,
    stop: () => stopChild(child),
  };
}

/** Runs the real command line (`src/main.ts` through tsx) as its own process, as an operator would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when `start` got as far as listening (the run was then stopped with SIGTERM). */
  readonly listened: boolean;
}

export function runCli(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let listened = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // A `start` that should have refused its configuration must not keep the test waiting.
      if (!listened && stdout.includes('fhir-gateway listening')) {
        listened = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, listened }));
  });
}

/** The `fhir-gateway: configuration error: ...` line of a run, if any. */
export function configErrorLine(run: CliRun): string | undefined {
  return run.stderr.split('\n').find((line) => line.startsWith('fhir-gateway: configuration error:'));
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** The URL the gateway logged when it started listening. */
  readonly url: string;
  /** Everything it wrote to stdout so far (JSON log lines). */
  output(): string;
}

/** `fhir-gateway start` as a process, at LOG_LEVEL=info, once it listens. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'info',
      PROXY_PORT: '0',
      PROXY_HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let url: string | undefined;
  while (!url && child.exitCode === null) {
    url = /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1];
    if (!url) await sleep(50);
  }
  if (!url) throw new Error(`the gateway exited before listening: ${output}`);
  return { child, url, output: () => output };
}

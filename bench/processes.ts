import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository root: children run from there so that `--import tsx` resolves. */
export const REPO_ROOT = resolve(import.meta.dirname, '..');

/** What a child prints as its first stdout line once it listens. */
export interface ReadyLine {
  url: string;
  pid: number;
}

export interface Started {
  readonly pid: number;
  readonly url: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL), synchronously: safe in an `exit` handler. */
export function killAllNow(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
}

/** Stops a child with SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return;
  }
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  running.delete(child);
}

/** Registers a process started elsewhere (nginx) so that it is killed with the others. */
export function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * Starts an entry point in its own node process (a `.ts` one through tsx, a `.js` one as it is),
 * with an IPC channel so that it exits when this process dies, and waits for its ready line.
 */
export async function startNodeChild(
  script: string,
  env: Record<string, string>,
  options: { execArgv?: string[]; timeoutMs?: number } = {},
): Promise<Started> {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(
    process.execPath,
    [...loader, ...(options.execArgv ?? []), resolve(import.meta.dirname, script)],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  track(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<ReadyLine>((resolveReady, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start in time\n${stderr}`)),
      options.timeoutMs ?? 60_000,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before it was ready\n${stderr}`));
    });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolveReady(JSON.parse(line) as ReadyLine);
      } catch {
        reject(new Error(`${script} printed '${line}' instead of its ready line\n${stderr}`));
      }
    });
  });
  // Later stdout lines are not read by anyone; keep the pipe drained.
  child.stdout?.resume();
  return { pid: ready.pid, url: ready.url, stop: () => stopChild(child) };
}

/** For the children: exit when the parent goes away, and say where they listen. */
export function announceReady(url: string, onStop: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    onStop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  process.stdout.write(`${JSON.stringify({ url, pid: process.pid })}\n`);
}

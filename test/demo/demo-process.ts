import { type ChildProcess, spawn } from 'node:child_process';
import { READY_LINE } from '../../src/demo/banner.js';

/** `npm run demo` as a child process, with its output collected and its banner parsed. */
export interface DemoProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with stdout once the banner's last line is out; rejects if the demo exits or stalls. */
  ready(timeoutMs: number): Promise<string>;
  /** Sends `signal` and resolves with the exit code, or rejects after `timeoutMs`. */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<number | null>;
  /** SIGKILL if still running; safe to call any time. */
  kill(): void;
}

export function spawnDemo(env: Record<string, string>): DemoProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/demo/main.ts'], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    ready(timeoutMs) {
      return new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = setInterval(() => {
          if (out.includes(READY_LINE)) finish(() => resolve(out));
          else if (!running()) finish(() => reject(new Error(`demo exited early:\n${out}\n${err}`)));
          else if (Date.now() > deadline)
            finish(() => reject(new Error(`no banner within ${timeoutMs} ms:\n${out}\n${err}`)));
        }, 50);
        const finish = (settle: () => void) => {
          clearInterval(poll);
          settle();
        };
      });
    },
    async stop(signal, timeoutMs) {
      if (running()) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`demo still running ${timeoutMs} ms after ${signal}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      if (running()) child.kill('SIGKILL');
    },
  };
}

/** The value of a `NAME=value` line of the banner (leading spaces allowed). */
export function bannerValue(banner: string, name: string): string {
  const match = new RegExp(`^\\s*${name}=(\\S+)$`, 'm').exec(banner);
  if (!match?.[1]) throw new Error(`the banner has no ${name}= line:\n${banner}`);
  return match[1];
}

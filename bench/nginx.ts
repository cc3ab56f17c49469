import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild, track } from './processes.js';
import { childPids } from './proc-stats.js';

export interface NginxProxy {
  readonly url: string;
  /** Master and worker: their CPU is added up. */
  readonly pids: readonly number[];
  readonly version: string;
  stop(): Promise<void>;
}

function which(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  // Root's PATH may lack /usr/sbin (where Debian puts nginx) in some shells.
  return [`/usr/sbin/${command}`, `/usr/bin/${command}`].find((path) => existsSync(path));
}

/**
 * Finds Debian's nginx, or installs it with apt-get when running as root (unless
 * BENCH_NO_INSTALL=1). Resolves with its path, or with the reason it cannot be had.
 */
export function findOrInstallNginx(log: (line: string) => void): { path: string } | { reason: string } {
  const existing = which('nginx');
  if (existing) return { path: existing };
  if (process.env.BENCH_NO_INSTALL === '1') return { reason: 'nginx is not installed (BENCH_NO_INSTALL=1)' };
  if (process.getuid?.() !== 0 || !which('apt-get')) {
    return { reason: 'nginx is not installed, and apt-get cannot be run here (not root, or not Debian)' };
  }
  log('nginx not found: installing it with apt-get (once; not counted in the run time)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', 'nginx'], { env, stdio: 'ignore', timeout: 300_000 });
  if (install().status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore', timeout: 300_000 });
    if (install().status !== 0) return { reason: '`apt-get install -y nginx` failed' };
  }
  const installed = which('nginx');
  return installed ? { path: installed } : { reason: 'nginx was installed but cannot be found' };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function config(dir: string, port: number, upstream: URL): string {
  return `worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream fhir {
    server ${upstream.host};
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
  }
  # The default closes a client connection after 1,000 requests, which load generators see as errors.
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://fhir;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Room for a 50 KB Bundle in memory, so no response is spooled to disk.
      proxy_buffer_size 16k;
      proxy_buffers 8 16k;
    }
  }
}
`;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx did not listen on ${port}`);
}

/** nginx as a plain reverse proxy (1 worker, upstream keep-alive) in front of `upstreamBase`. */
export async function startNginx(path: string, upstreamBase: string): Promise<NginxProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-gateway-bench-nginx-'));
  const port = await freePort();
  const upstream = new URL(upstreamBase);
  const configFile = join(dir, 'nginx.conf');
  writeFileSync(configFile, config(dir, port, upstream));
  const version = spawnSync(path, ['-v'], { encoding: 'utf8' })
    .stderr.trim()
    .replace(/^nginx version: /, '');
  const child = spawn(path, ['-p', dir, '-e', join(dir, 'error.log'), '-c', configFile], { stdio: 'ignore' });
  track(child);
  await waitForPort(port, 10_000);
  const workers = childPids(child.pid!);
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    pids: [child.pid!, ...workers],
    version,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

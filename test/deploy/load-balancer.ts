/**
 * Debian's nginx as a round-robin load balancer in front of gateway replicas, configured as
 * docs/deployment.md#replicas recommends. Its access log says which replica served each request.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findOrInstallNginx, freePort } from '../../bench/nginx.js';
import { stopChild } from '../../bench/processes.js';

export interface Served {
  /** `127.0.0.1:PORT` of the replica. */
  readonly upstream: string;
  readonly status: number;
  readonly method: string;
  readonly uri: string;
}

export interface LoadBalancer {
  /** e.g. `http://127.0.0.1:PORT`. */
  readonly url: string;
  /**
   * Every request answered so far, in order. nginx writes a line after the client has its answer,
   * so this waits (up to 5 s, then throws) until at least `atLeast` lines are there.
   */
  served(atLeast?: number): Promise<Served[]>;
  stop(): Promise<void>;
}

/** nginx's path; throws, saying how CI gets it, when it is neither installed nor installable. */
export function nginxPath(): string {
  const found = findOrInstallNginx(() => {});
  if ('reason' in found) {
    throw new Error(
      `the two-replica test needs Debian's nginx: ${found.reason}. ` +
        '`.ci/run` installs it (apt-get install nginx-light); on a workstation: sudo apt-get install nginx-light',
    );
  }
  return found.path;
}

function config(dir: string, port: number, replicaPorts: readonly number[]): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  log_format replica '$upstream_addr $status $request_method $request_uri';
  access_log ${dir}/access.log replica;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream gateways {
${replicaPorts.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join('\n')}
    keepalive 16;
    # Shorter than the replicas' own idle timeout, so nginx never reuses a connection a replica is
    # closing; with max_fails=0 a failed attempt never takes a replica out of the rotation, which
    # keeps the round robin strict for the tests that count requests per replica.
    keepalive_timeout 4s;
  }
  server {
    listen 127.0.0.1:${port};
    # Keycloak tokens of users with many roles pass nginx's 8 KB default.
    large_client_header_buffers 4 64k;
    client_max_body_size 16m;
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # A write is never sent twice: no retry on the other replica once it was sent.
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
      proxy_buffer_size 64k;
      proxy_buffers 16 64k;
    }
  }
}
`;
}

export async function startLoadBalancer(replicaPorts: readonly number[]): Promise<LoadBalancer> {
  const nginx = nginxPath();
  const dir = mkdtempSync(join(tmpdir(), 'fhir-gateway-lb-'));
  const port = await freePort();
  const configFile = join(dir, 'nginx.conf');
  writeFileSync(configFile, config(dir, port, replicaPorts));
  const child = spawn(nginx, ['-p', dir, '-e', join(dir, 'error.log'), '-c', configFile], {
    stdio: 'ignore',
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const url = `http://127.0.0.1:${port}`;
  // Bounded only so that an nginx that never listens fails the test instead of hanging CI.
  for (let attempt = 0; ; attempt++) {
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (exited || attempt > 400) {
      child.kill('SIGKILL');
      const log = readFileSync(join(dir, 'error.log'), 'utf8');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start (${configFile}):\n${log}`);
    }
    await sleep(50);
  }
  const accessLog = join(dir, 'access.log');
  return {
    url,
    async served(atLeast = 0) {
      for (let attempt = 0; ; attempt++) {
        const lines = readFileSync(accessLog, 'utf8')
          .split('\n')
          .filter((line) => line !== '');
        if (lines.length >= atLeast) return lines.map(parseServed);
        if (attempt >= 250) throw new Error(`nginx logged ${lines.length} requests, expected ${atLeast}`);
        await sleep(20);
      }
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One line of the `replica` log format. */
function parseServed(line: string): Served {
  // $upstream_addr lists every replica tried ("a, b"); the last one answered.
  const fields = line.split(' ');
  const [status = '', method = '', uri = ''] = fields.slice(-3);
  const upstream = fields.slice(0, -3).join(' ').split(', ').at(-1) ?? '';
  return { upstream, status: Number(status), method, uri };
}

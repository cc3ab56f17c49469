import type { Backend } from '../backend/backend.js';

const PROBE_TTL_MS = 5_000;

/**
 * Readiness of the backend, probed with `GET metadata` at most once per 5 s so that a busy
 * orchestrator cannot turn probes into load on the FHIR server.
 */
export class BackendProbe {
  private last?: { at: number; ok: boolean };
  private pending?: Promise<boolean>;

  constructor(private readonly backend: Backend) {}

  async reachable(): Promise<boolean> {
    if (this.last && Date.now() - this.last.at < PROBE_TTL_MS) return this.last.ok;
    this.pending ??= this.probe().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async probe(): Promise<boolean> {
    let ok = false;
    try {
      const response = await this.backend.send({
        method: 'GET',
        target: '/metadata',
        headers: { accept: 'application/fhir+json' },
        signal: AbortSignal.timeout(3_000),
      });
      await response.body.dump();
      ok = response.status < 500;
    } catch {
      ok = false;
    }
    this.last = { at: Date.now(), ok };
    return ok;
  }
}

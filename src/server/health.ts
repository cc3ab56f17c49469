import type { Backend } from '../backend/backend.js';

const PROBE_TTL_MS = 5_000;

/**
 * Readiness of the backend, probed with `GET metadata` (with the gateway's backend credentials)
 * at most once per 5 s so that a busy orchestrator cannot turn probes into load on the FHIR server.
 */
export class BackendProbe {
  private last?: { at: number; ok: boolean };
  private pending?: Promise<boolean>;

  constructor(private readonly backend: Backend) {}

  async reachable(): Promise<boolean> {
    // After a credential failure every probe asks again (the credentials pace their own retries),
    // so readiness follows the recovery at once.
    if (this.last && Date.now() - this.last.at < PROBE_TTL_MS && this.backend.authHealthy)
      return this.last.ok;
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
    // A credential failure is not remembered: the next probe after the recovery sees it.
    this.last = this.backend.authHealthy ? { at: Date.now(), ok } : undefined;
    return ok;
  }
}

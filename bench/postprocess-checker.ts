import { type AccessCheckerFactory, granted } from '../src/access/contract.js';

interface SearchsetShape {
  resourceType?: unknown;
  entry?: { resource?: { resourceType?: string; meta?: Record<string, unknown> } }[];
}

/**
 * Bench-only checker (ACCESS_CHECKER=bench-postprocess): grants everything, and asks for the
 * backend's Bundle to be buffered, parsed, rewritten and re-serialized, the way a filtering
 * checker would (every entry is visited and marked, none dropped).
 */
export const benchPostProcessChecker: AccessCheckerFactory = {
  name: 'bench-postprocess',
  devOnly: true,
  async create() {
    return {
      async checkAccess() {
        return granted({
          async postProcess(_req, res) {
            const bundle = res.json() as SearchsetShape;
            if (bundle.resourceType !== 'Bundle') return undefined;
            const entry = (bundle.entry ?? []).filter((e) => e.resource?.resourceType !== undefined);
            for (const e of entry) e.resource!.meta = { ...e.resource!.meta, security: [{ code: 'bench' }] };
            return { ...bundle, entry };
          },
        });
      },
    };
  },
};

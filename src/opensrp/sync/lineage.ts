/**
 * Lineage tags on Location writes (spec §3.8.4): after a Location is created or updated, it and
 * every Location below it carry one lineage coding per ancestor (code = ancestor id), which is what
 * lineage-mode hierarchy queries search for. Only Locations whose lineage changed are written back.
 * A failure is logged and the client still gets the answer to its write.
 */
import type { Coding, Location } from '@medplum/fhirtypes';
import type { BackendResponse, FhirClient, Logger } from '../../access/contract.js';
import type { FhirRequest } from '../../fhir/request.js';
import { expandLocations } from './locations.js';
import { mapLimit } from './map-limit.js';
import { referencedId } from './search.js';

const WRITE_CONCURRENCY = 8;

export class LineageMaintainer {
  constructor(
    private readonly fhir: FhirClient,
    private readonly lineageSystem: string,
    private readonly logger: Logger,
    /** Called after any Location write (hierarchy caches must be forgotten). */
    private readonly onLocationWrite: () => void,
  ) {}

  /** True for the requests that trigger maintenance: a Location create or update, any client. */
  applies(req: FhirRequest): boolean {
    return req.resourceType === 'Location' && (req.interaction === 'create' || req.interaction === 'update');
  }

  /** The post-processing step: returns the Location with its new lineage when the write answered with it. */
  async postProcess(req: FhirRequest, res: BackendResponse): Promise<unknown | undefined> {
    this.onLocationWrite();
    let body: unknown;
    try {
      body = res.json();
    } catch {
      body = undefined;
    }
    const written = body as Location | undefined;
    const id = written?.resourceType === 'Location' && written.id ? written.id : req.id;
    if (id === undefined) return undefined;
    try {
      const updated = await this.maintain(id);
      return updated && written?.resourceType === 'Location' ? updated : undefined;
    } catch (error) {
      this.logger.warn({ err: error, locationId: id }, 'Location lineage tags could not be updated');
      return undefined;
    } finally {
      this.onLocationWrite();
    }
  }

  /** Brings the lineage of `Location/<id>` and its subtree up to date; returns the Location when it changed. */
  async maintain(id: string): Promise<Location | undefined> {
    const root = await this.read(id);
    if (!root) return undefined;
    const parentId = referencedId(root.partOf?.reference, 'Location');
    const parent = parentId === undefined ? undefined : await this.read(parentId);
    const rootLineage = parent && parentId ? [...this.lineageOf(parent), parentId] : [];

    const tree = await expandLocations(this.fhir, [id], [root]);
    const lineage = new Map<string, string[]>([[id, dedupe(rootLineage)]]);
    const order = [id];
    for (let i = 0; i < order.length; i++) {
      const current = order[i]!;
      for (const child of tree.childrenOf.get(current) ?? []) {
        lineage.set(child, dedupe([...lineage.get(current)!, current]));
        order.push(child);
      }
    }
    const stale = order.filter((loc) => !sameCodes(this.lineageOf(tree.byId.get(loc)!), lineage.get(loc)!));
    const written = await mapLimit(stale, WRITE_CONCURRENCY, (loc) =>
      this.write(this.withLineage(tree.byId.get(loc)!, lineage.get(loc)!)),
    );
    const rootIndex = stale.indexOf(id);
    return rootIndex === -1 ? undefined : written[rootIndex];
  }

  private lineageOf(location: Location): string[] {
    return (location.meta?.tag ?? [])
      .filter((tag) => tag.system === this.lineageSystem && typeof tag.code === 'string')
      .map((tag) => tag.code!);
  }

  private withLineage(location: Location, ancestors: readonly string[]): Location {
    const others = (location.meta?.tag ?? []).filter((tag) => tag.system !== this.lineageSystem);
    const lineage: Coding[] = ancestors.map((code) => ({ system: this.lineageSystem, code }));
    return { ...location, meta: { ...location.meta, tag: [...others, ...lineage] } };
  }

  private async read(id: string): Promise<Location | undefined> {
    const { status, body } = await this.fhir.get(`Location/${id}`);
    if (status === 404 || status === 410) return undefined;
    if (status < 200 || status >= 300) throw new Error(`reading Location/${id} answered ${status}`);
    return body as Location;
  }

  private async write(location: Location): Promise<Location> {
    const { status, body } = await this.fhir.request('PUT', `Location/${location.id}`, { body: location });
    if (status < 200 || status >= 300) throw new Error(`updating Location/${location.id} answered ${status}`);
    return (body as Location | undefined) ?? location;
  }
}

function dedupe(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function sameCodes(a: readonly string[], b: readonly string[]): boolean {
  const setA = new Set(a);
  return setA.size === new Set(b).size && b.every((code) => setA.has(code)) && a.length === b.length;
}

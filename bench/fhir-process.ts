/**
 * The in-memory FHIR server seeded with an OpenSRP world (TREE=1k or 10k), in its own process.
 * It answers the OpenSRP lookups other than Location searches (bench/location-index.ts has those).
 * `GET /__bench/world` says how many Locations it holds and which is the root.
 */
import { startFhirServer } from '../test/support/fhir-server.js';
import { openSrpWorldResources, TREE_10K, TREE_1K } from './opensrp-setup.js';
import { announceReady } from './processes.js';

const world = openSrpWorldResources(process.env.TREE === '10k' ? TREE_10K : TREE_1K);
const fhir = await startFhirServer({ seed: world.resources });

fhir.intercept((req, res) => {
  if (req.path !== '/__bench/world') return false;
  const body = JSON.stringify({ locationCount: world.locationCount, root: world.root });
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  return true;
});

announceReady(fhir.baseUrl, () => fhir.close());

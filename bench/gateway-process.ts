/**
 * One gateway in its own process, configured from the environment exactly as `src/main.ts` is,
 * plus the bench-only post-processing checker. Run by bench/main.ts so that the gateway's CPU
 * time can be read from /proc/<pid>/stat apart from the load generator's and the upstream's.
 */
import { loadConfig } from '../src/config/index.js';
import { createGateway } from '../src/server/gateway.js';
import { benchPostProcessChecker } from './postprocess-checker.js';
import { announceReady } from './processes.js';

const config = loadConfig(process.env);
const gateway = await createGateway(config, { env: process.env, extraCheckers: [benchPostProcessChecker] });
const url = await gateway.listen();
announceReady(url, () => gateway.close());

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, Env } from 'dockerfile-ast';
import { REPO_ROOT } from './processes.js';

/**
 * The memory settings the container image runs the gateway with (its runtime stage's NODE_OPTIONS
 * and MALLOC_* variables), so that the bench measures the gateway as it is deployed.
 */
export function imageRuntimeTuning(): Record<string, string> {
  const dockerfile = DockerfileParser.parse(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
  let tuning: Record<string, string> = {};
  for (const instruction of dockerfile.getInstructions()) {
    // Each FROM starts a stage: only the last one's variables reach the running gateway.
    if (instruction.getKeyword() === 'FROM') tuning = {};
    if (!(instruction instanceof Env)) continue;
    for (const property of instruction.getProperties()) {
      const name = property.getName();
      if (name === 'NODE_OPTIONS' || name.startsWith('MALLOC_')) tuning[name] = property.getValue() ?? '';
    }
  }
  return tuning;
}

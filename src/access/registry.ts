import { ConfigError } from '../config/config-error.js';
import type { AccessCheckerFactory } from './contract.js';

/**
 * Resolves the names in ACCESS_CHECKER to factories. Unknown names and dev-only checkers outside
 * RUN_MODE=DEV are configuration errors, reported before the gateway listens.
 */
export function resolveCheckers(
  names: readonly string[],
  available: readonly AccessCheckerFactory[],
  devMode: boolean,
): AccessCheckerFactory[] {
  return names.map((name) => {
    const factory = available.find((candidate) => candidate.name === name);
    if (!factory) {
      const known = available.map((candidate) => candidate.name).join(', ');
      throw new ConfigError('ACCESS_CHECKER', `unknown access checker '${name}' (known: ${known})`);
    }
    if (factory.devOnly && !devMode) {
      throw new ConfigError('ACCESS_CHECKER', `'${name}' is only allowed with RUN_MODE=DEV`);
    }
    return factory;
  });
}

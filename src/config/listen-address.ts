/**
 * PROXY_HOST is checked before anything listens, so that `start` and `check-config` refuse the
 * same hosts with the same line: a name that does not resolve, or an address that is not one of
 * this machine's (listening there would fail with EADDRNOTAVAIL).
 */
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { ConfigError } from './config-error.js';

const WILDCARDS = new Set(['0.0.0.0', '::']);

function localAddresses(): Set<string> {
  const addresses = new Set<string>();
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) addresses.add(entry.address);
  }
  return addresses;
}

/** Resolves PROXY_HOST as `listen` will; throws ConfigError when the gateway could not listen there. */
export async function checkListenAddress(host: string, variable = 'PROXY_HOST'): Promise<void> {
  let resolved: { address: string }[];
  try {
    resolved = await lookup(host, { all: true });
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'lookup failed';
    throw new ConfigError(variable, `cannot resolve ${JSON.stringify(host)} (${code})`);
  }
  const local = localAddresses();
  if (resolved.some(({ address }) => WILDCARDS.has(address) || local.has(address))) return;
  const addresses = resolved.map(({ address }) => address).join(', ');
  throw new ConfigError(
    variable,
    `${JSON.stringify(host)} (${addresses}) is not an address of this machine; use 0.0.0.0 to listen on all`,
  );
}

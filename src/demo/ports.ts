/**
 * Fixed, memorable ports for the demo so the printed curl lines stay the same between runs, with a
 * fall back to a free port when one is taken (a second demo, a real gateway on 8080...).
 */

type Environment = Readonly<Record<string, string | undefined>>;

/** The first of `names` that is set, as a port number (0 = pick a free one), else `fallback`. */
export function portFromEnv(env: Environment, names: readonly string[], fallback: number): number {
  for (const name of names) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`${name} must be a port number between 0 and 65535, got '${raw}'`);
    return port;
  }
  return fallback;
}

function isAddressInUse(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    (error.code === 'EADDRINUSE' || error.code === 'EACCES')
  );
}

/**
 * Starts something on `port`; when that port is taken, starts it again on a free port.
 * `onFallback` is told so the banner can say why the port differs from the usual one.
 */
export async function startOnPort<T>(
  port: number,
  start: (port: number) => Promise<T>,
  onFallback: (port: number) => void,
): Promise<T> {
  try {
    return await start(port);
  } catch (error) {
    if (port === 0 || !isAddressInUse(error)) throw error;
    onFallback(port);
    return start(0);
  }
}

/**
 * A configuration problem found at start. The message is one line, `<VARIABLE>: <what is wrong>`,
 * so an operator sees at once which setting to fix. This module imports nothing, so any layer that
 * reads a configured file (e.g. the allowed-queries loader) can throw it.
 */
export class ConfigError extends Error {
  /** The environment variable at fault, e.g. `PROXY_TO`. */
  readonly variable: string;
  /** What is wrong, without the variable name. */
  readonly reason: string;

  constructor(variable: string, reason: string, options: { cause?: unknown } = {}) {
    const oneLine = reason.replace(/\s*[\r\n]+\s*/g, ' ').trim();
    super(`${variable}: ${oneLine}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConfigError';
    this.variable = variable;
    this.reason = oneLine;
  }
}

import {
  CONFIG_VARIABLE_SOURCES,
  type ConfigVariable,
  type ConfigVariableSource,
  type Environment,
} from '../config/index.js';

/** Shown instead of a secret's value. */
export const HIDDEN = '<set, hidden>';

/** Names that look like credentials are hidden even if a module forgot to flag them `secret`. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|(^|_)KEY$|(^|_)TOKEN$/i;

export interface EffectiveSetting {
  readonly name: string;
  /** The value in force (a secret's is HIDDEN); undefined when unset without default. */
  readonly value?: string;
  /** `file`: a secret read from `<NAME>_FILE` (docs/configuration.md). */
  readonly origin: 'environment' | 'file' | 'default' | 'unset';
}

export interface EffectiveSection {
  readonly owner: string;
  readonly doc: string;
  readonly settings: readonly EffectiveSetting[];
}

export function isSecret(variable: ConfigVariable): boolean {
  return variable.secret === true || SECRET_NAME.test(variable.name);
}

/** Every documented variable with the value in force and where it came from. */
export function effectiveConfig(
  env: Environment,
  sources: readonly ConfigVariableSource[] = CONFIG_VARIABLE_SOURCES,
): EffectiveSection[] {
  return sources.map((source) => ({
    owner: source.owner,
    doc: source.doc,
    settings: source.variables.map((variable) => effectiveSetting(variable, env)),
  }));
}

function effectiveSetting(variable: ConfigVariable, env: Environment): EffectiveSetting {
  const given = env[variable.name]?.trim();
  const file = isSecret(variable) ? env[`${variable.name}_FILE`]?.trim() : undefined;
  if (file) return { name: variable.name, value: HIDDEN, origin: 'file' };
  if (given !== undefined && given !== '') {
    const value = isSecret(variable) ? HIDDEN : withoutUrlPassword(given);
    return { name: variable.name, value, origin: 'environment' };
  }
  if (variable.default !== undefined) {
    return { name: variable.name, value: variable.default, origin: 'default' };
  }
  return { name: variable.name, origin: 'unset' };
}

/** A URL's userinfo password (`http://user:pw@host`) is a credential too. */
function withoutUrlPassword(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) return value;
  try {
    const url = new URL(value);
    if (url.password === '') return value;
    url.password = 'hidden';
    return url.href;
  } catch {
    return value;
  }
}

/** `NAME=value` lines, one section per module, with the origin as a trailing comment. */
export function formatEffectiveConfig(sections: readonly EffectiveSection[]): string {
  // Aligned comments, except after the few long values (URLs) that would push them all right.
  const width = Math.min(
    48,
    Math.max(
      ...sections.flatMap((section) => section.settings.map((s) => s.name.length + (s.value ?? '').length)),
    ),
  );
  const lines: string[] = [];
  for (const section of sections) {
    lines.push(`# ${section.owner} (${section.doc})`);
    for (const setting of section.settings) {
      const assignment = `${setting.name}=${setting.value ?? ''}`;
      const origin = setting.origin === 'file' ? `file (${setting.name}_FILE)` : setting.origin;
      lines.push(`${assignment.padEnd(width + 2)}# ${origin}`);
    }
  }
  return lines.join('\n');
}

/**
 * The AUDIT_* variables → one AuditSettings, present only when AUDIT_EVENT_ACTIONS_CONFIG names
 * at least one action (audit on). Where the events go is decided here, once: the FHIR sink at
 * AUDIT_SINK_URL (default PROXY_TO), the JSON-lines file, or both.
 */
import { ConfigError } from './config-error.js';
import type { AuditAction } from './schema.js';

export interface AuditSettings {
  /** The interactions recorded (AUDIT_EVENT_ACTIONS_CONFIG); never empty. */
  readonly actions: ReadonlySet<AuditAction>;
  /** The FHIR base the transaction Bundles are posted to; undefined: no FHIR sink. */
  readonly sinkUrl?: string;
  /** The FHIR sink is PROXY_TO itself: written through the backend client, with its credentials. */
  readonly sinkIsBackend: boolean;
  /** A path, or `-` for standard output; undefined: no JSON-lines sink. */
  readonly logFile?: string;
  readonly queueMaxEvents: number;
  /** Bytes of encoded events held per sink, at most. */
  readonly queueMaxBytes: number;
  readonly batchMaxEvents: number;
  readonly flushIntervalMs: number;
}

export interface AuditValues {
  readonly PROXY_TO: string;
  readonly AUDIT_EVENT_ACTIONS_CONFIG: ReadonlySet<AuditAction>;
  readonly AUDIT_SINK_URL?: string | undefined;
  readonly AUDIT_LOG_FILE?: string | undefined;
  readonly AUDIT_QUEUE_MAX_EVENTS: number;
  readonly AUDIT_QUEUE_MAX_BYTES: number;
  readonly AUDIT_BATCH_MAX_EVENTS: number;
  readonly AUDIT_FLUSH_INTERVAL_MS: number;
}

/** `{ audit }` when auditing is on, `{}` otherwise. Throws ConfigError when the events would go nowhere. */
export function auditSettings(v: AuditValues): { audit?: AuditSettings } {
  if (v.AUDIT_EVENT_ACTIONS_CONFIG.size === 0) return {};
  const sinkUrl = v.AUDIT_SINK_URL === 'none' ? undefined : (v.AUDIT_SINK_URL ?? v.PROXY_TO);
  if (sinkUrl === undefined && v.AUDIT_LOG_FILE === undefined) {
    throw new ConfigError(
      'AUDIT_SINK_URL',
      'is none and AUDIT_LOG_FILE is unset: the AuditEvents would go nowhere; set AUDIT_LOG_FILE, or unset AUDIT_SINK_URL to write them to PROXY_TO',
    );
  }
  return {
    audit: {
      actions: v.AUDIT_EVENT_ACTIONS_CONFIG,
      ...(sinkUrl !== undefined ? { sinkUrl } : {}),
      sinkIsBackend: sinkUrl === v.PROXY_TO,
      ...(v.AUDIT_LOG_FILE !== undefined ? { logFile: v.AUDIT_LOG_FILE } : {}),
      queueMaxEvents: v.AUDIT_QUEUE_MAX_EVENTS,
      queueMaxBytes: v.AUDIT_QUEUE_MAX_BYTES,
      batchMaxEvents: v.AUDIT_BATCH_MAX_EVENTS,
      flushIntervalMs: v.AUDIT_FLUSH_INTERVAL_MS,
    },
  };
}

/** Audit settings given while audit is off: probably a forgotten AUDIT_EVENT_ACTIONS_CONFIG. */
export function auditWarnings(env: Readonly<Record<string, string | undefined>>): string[] {
  const actions = env['AUDIT_EVENT_ACTIONS_CONFIG']?.trim();
  if (actions !== undefined && actions !== '') return [];
  const set = ['AUDIT_SINK_URL', 'AUDIT_LOG_FILE'].filter((name) => (env[name]?.trim() ?? '') !== '');
  return set.map(
    (name) => `${name}: is set, but AUDIT_EVENT_ACTIONS_CONFIG is empty, so no AuditEvent is written`,
  );
}

export { ConfigError } from './config-error.js';
export {
  type AuditAction,
  type AuditSettings,
  configWarnings,
  type Environment,
  type ExitIo,
  type GatewayConfig,
  isDevMode,
  loadConfig,
  readConfigOrExit,
} from './load-config.js';
export {
  CONFIG_VARIABLE_SOURCES,
  CONFIG_VARIABLES,
  type ConfigGroup,
  type ConfigVariable,
  type ConfigVariableSource,
} from './variables.js';

/**
 * The workflow SDK: `import { workflow, integrations } from "bifrost"`.
 * @module
 */
export { integrations, type GetOptions, type Integrations } from "./runtime/integrations.js";
export { oauth } from "./runtime/oauth.js";
export { workflow, isWorkflow, execution, type WorkflowDefinition, type WorkflowFn, type WorkflowOptions } from "./runtime/workflow.js";
export { IntegrationConfig } from "./runtime/config-map.js";
export type { ResolvedIntegration, IntegrationSummary, IntegrationRegistry, IntegrationName, TypedIntegrationConfig, ConfigFor } from "./runtime/types.js";
export type { JsonValue } from "./core/types.js";
export type { OAuthCredentials } from "./kernel/types.js";
export {
  BifrostError,
  ConfigError,
  IntegrationNotFoundError,
  NoExecutionContextError,
  ValidationError,
  DecryptError,
} from "./core/errors.js";

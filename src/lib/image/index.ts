/** The image library (the native runtime's image store, references, registry settings): public API. */
export { ImageStore, parsePlatform, selectManifest } from './store.js';
export type { StoredImage, StoredLayer, ImageProgress, PullOptions, PushOptions } from './store.js';
export { loadRegistryConfig, isInsecureRegistry } from './registry-config.js';
export type { RegistryConfig, RegistrySettings } from './registry-config.js';
export {
  DEFAULT_REGISTRY,
  DEFAULT_TAG,
  familiarName,
  familiarize,
  isValidDigest,
  isValidReference,
  isValidTag,
  normalizeRef,
  parseReference,
  repoName,
  splitReference,
  tryNormalizeRef,
  withDefaultTag,
} from './reference.js';
export type { ImageReference, SplitReference } from './reference.js';
export { summarizeImageConfig } from './config-details.js';
export type { ImageConfigSummary, ImageHealthcheck } from './config-details.js';
export * from './errors.js';
export type { OciImageConfig, OciContainerConfig, HealthcheckConfig, Platform } from './types.js';

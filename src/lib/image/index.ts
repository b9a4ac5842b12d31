/** The native runtime's image store: public API. */
export { ImageStore, parsePlatform, selectManifest } from './store.js';
export type { StoredImage, StoredLayer, ImageProgress, PullOptions, PushOptions } from './store.js';
export { registryConfigFromEnv, isInsecureRegistry } from './registry-config.js';
export type { RegistryConfig } from './registry-config.js';
export { normalizeRef, tryNormalizeRef, familiarName } from './reference.js';
export { InvalidReferenceError } from './errors.js';
export type { ImageReference } from './reference.js';
export { LayerRejectedError } from './tar-scan.js';
export { DigestMismatchError } from './layer.js';
export { ArchiveError } from './archive.js';
export type { OciImageConfig, OciContainerConfig, HealthcheckConfig, Platform } from './types.js';

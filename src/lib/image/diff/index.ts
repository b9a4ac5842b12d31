/**
 * The layer side of the native image builder: an overlay upper directory → an OCI layer (diff.ts, upper.ts), and
 * committing layers and images into the store (commit.ts; the store's part in store-ops.ts).
 */
export { layerTarStream, writeLayer } from './diff.js';
export type { DiffOptions, LayerDigests, WriteLayerOptions } from './diff.js';
export { scanUpperDir } from './upper.js';
export type { ScanOptions, UpperEntry, UpperKind, XattrPolicy } from './upper.js';
export { BUILDKIT_HISTORY_COMMENT, buildkitHistory, commitImage, commitLayer, imageConfigFor } from './commit.js';
export type { CommitImageOptions, CommittedLayer } from './commit.js';
export type { LayerBlob, StoreLease } from './store-ops.js';
export { ImageCommitError, LayerDiffError } from './errors.js';

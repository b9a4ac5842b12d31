/**
 * Committing a build step into the native store: an overlay upper directory → a layer in the store (commitLayer),
 * and a parent image (or scratch) + new layers + a config → a tagged image (commitImage).
 *
 * The image config is what BuildKit's Dockerfile frontend writes: the base image's config carried on, the new
 * `rootfs.diff_ids` appended, and one history entry per step (`created_by` as `RUN /bin/sh -c … # buildkit`,
 * `comment` `buildkit.dockerfile.v0`, `empty_layer` for steps without a layer: dockerfile2llb commitToHistory).
 */
import { rm } from 'node:fs/promises';
import { parsePlatform } from '../platform.js';
import type { ImageStore, StoredImage, StoredLayer } from '../store.js';
import type { HistoryEntry, OciContainerConfig, OciImageConfig, Platform } from '../types.js';
import { writeLayer, type LayerDigests, type WriteLayerOptions } from './diff.js';
import { ImageCommitError } from './errors.js';

/** The comment BuildKit's Dockerfile frontend gives its history entries. */
export const BUILDKIT_HISTORY_COMMENT = 'buildkit.dockerfile.v0';

/** A layer committed from an upper directory: where it is in the store (`size`: unpacked bytes) and its blob. */
export interface CommittedLayer extends StoredLayer {
  blob: LayerDigests;
}

/**
 * Turns the upper directory `upper` into a layer on top of `parent` (the layers below it, bottom → top; empty or
 * absent for the first layer) and adds it to the store. Nothing is left behind on failure but gc-able scratch.
 */
export async function commitLayer(
  store: ImageStore,
  upper: string,
  parent: readonly StoredLayer[] | undefined,
  opts: WriteLayerOptions = {},
): Promise<CommittedLayer> {
  const file = await store.scratch('.layer');
  try {
    const digests = await writeLayer(upper, file, opts);
    const layer = await store.addLayer(file, digests, parent?.[parent.length - 1]?.chainId, opts.signal ? { signal: opts.signal } : {});
    return { ...layer, blob: digests };
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * A history entry as BuildKit writes it: `createdBy` (`RUN /bin/sh -c apt-get update`, `ENV A=b`, …) gets
 * ` # buildkit` when the step ran on a filesystem state (RUN, COPY, ADD, WORKDIR: `state`, by default when it made
 * a layer).
 */
export function buildkitHistory(createdBy: string, opts: { emptyLayer?: boolean; state?: boolean; created?: string } = {}): HistoryEntry {
  const state = opts.state ?? !opts.emptyLayer;
  return {
    ...(opts.created !== undefined ? { created: opts.created } : {}),
    created_by: state ? `${createdBy} # buildkit` : createdBy,
    comment: BUILDKIT_HISTORY_COMMENT,
    ...(opts.emptyLayer ? { empty_layer: true } : {}),
  };
}

export interface CommitImageOptions {
  /** The base image; none: `FROM scratch`. */
  parent?: StoredImage;
  /** The new layers on top of the parent's, bottom → top. */
  layers: readonly StoredLayer[];
  /** The container config (`config`); default: the parent's. */
  config?: OciContainerConfig;
  /** The steps' history entries, appended to the parent's; as many non-`empty_layer` ones as `layers`. */
  history?: readonly HistoryEntry[];
  /** RFC 3339 creation time (default now); history entries without one get it. */
  created?: string;
  author?: string;
  /** Default: the parent's, else this machine's. */
  platform?: Platform;
  /** Names to give the image (`app:1`, `registry:5000/x/y:tag`). */
  tags?: readonly string[];
}

/** The image config of a commit (pure; commitImage writes it). */
export function imageConfigFor(opts: CommitImageOptions): OciImageConfig {
  const base = opts.parent?.config;
  const created = opts.created ?? new Date().toISOString();
  const history: readonly HistoryEntry[] = opts.history ?? opts.layers.map(() => ({ created_by: '', comment: BUILDKIT_HISTORY_COMMENT }));
  const withLayer = history.filter((h) => !h.empty_layer).length;
  if (withLayer !== opts.layers.length) {
    throw new ImageCommitError(`${opts.layers.length} new layers but ${withLayer} history entries with a layer`);
  }
  const parentDiffs = opts.parent?.layers.map((l) => l.diffId) ?? [];
  if (base && base.rootfs.diff_ids.join() !== parentDiffs.join()) throw new ImageCommitError('the parent image config and its layers disagree');
  const platform =
    opts.platform ?? (base ? { architecture: base.architecture, os: base.os, ...(base.variant ? { variant: base.variant } : {}) } : parsePlatform());
  const containerConfig = opts.config ?? base?.config;
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
    ...(platform['os.version'] !== undefined ? { 'os.version': platform['os.version'] } : {}),
    created,
    ...(opts.author !== undefined ? { author: opts.author } : {}),
    ...(containerConfig !== undefined ? { config: containerConfig } : {}),
    rootfs: { type: 'layers', diff_ids: [...parentDiffs, ...opts.layers.map((l) => l.diffId)] },
    history: [...(base?.history ?? []), ...history.map((h) => ({ created, ...h }))],
  };
}

/** Writes the image of a parent (or scratch) + new layers + config into the store, tagged; returns it. */
export async function commitImage(store: ImageStore, opts: CommitImageOptions): Promise<StoredImage> {
  return store.addImage(imageConfigFor(opts), opts.tags ?? []);
}

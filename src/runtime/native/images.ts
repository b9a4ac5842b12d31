/**
 * The native runtime's image service: the runtime port's image methods over the image store of src/lib/image
 * (a content-addressed store under <state>/images). It records image events like the other native services and
 * asks its owner which images containers use (removal and prune keep those). The store's own errors become the
 * port's where the engine tells them apart: no such image → NotFoundError, conflict → ConflictError, failed
 * pull/push → PullError/PushError; its other errors (CodedErrors with a code and hint) pass through.
 */
import type { Readable } from 'node:stream';
import { CodedError } from '../../lib/errors.js';
import { ImageConflictError, ImageNotFoundError, ImagePullError, ImagePushError } from '../../lib/image/errors.js';
import { ConflictError, NotFoundError, PullError, PushError } from '../errors.js';
import {
  matchesLabels,
  type CallOptions,
  type ImageDetails,
  type ImageInfo,
  type ImageSummary,
  type ImportOptions,
  type ImportResult,
  type ListOptions,
  type LoadResult,
  type PruneResult,
  type PullProgress,
  type PushProgress,
} from '../runtime.js';
import { ImageStore, type StoredImage } from '../../lib/image/store.js';
import { loadRegistryConfig, type RegistrySettings } from '../../lib/image/registry-config.js';
import { summarizeImageConfig } from '../../lib/image/config-details.js';
import { appendEvent } from './events-file.js';
import type { NativePaths } from './state.js';

export interface NativeImagesOptions {
  paths: NativePaths;
  /** Where the registry configuration comes from (the context's settings, read from its environment). */
  registry: RegistrySettings;
  /** The image ids the runtime's containers use. */
  imagesInUse: () => Promise<ReadonlySet<string>>;
}

/** The runtime port's error for an image store error (others unchanged). */
export function portError(e: unknown): unknown {
  if (!(e instanceof CodedError)) return e;
  const options = { cause: e.cause, hint: e.hint };
  if (e instanceof ImageNotFoundError) return new NotFoundError('image', e.ref, options);
  if (e instanceof ImageConflictError) return new ConflictError('image', e.ref, e.detail, options);
  if (e instanceof ImagePullError) return new PullError(e.ref, e.detail, options);
  if (e instanceof ImagePushError) return new PushError(e.ref, e.detail, options);
  return e;
}

/** Runs a store operation with its errors as the port's. */
async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw portError(e);
  }
}

export class NativeImages {
  private storeCache: ImageStore | undefined;

  constructor(private readonly options: NativeImagesOptions) {}

  /** Lazily: loading the registry configuration reads daemon.json. */
  get store(): ImageStore {
    this.storeCache ??= new ImageStore(this.options.paths.images, loadRegistryConfig(this.options.registry));
    return this.storeCache;
  }

  /** The stored image of a reference or id, if any (what containers are created from). */
  resolve(refOrId: string): Promise<StoredImage | undefined> {
    return mapped(() => this.store.resolve(refOrId));
  }

  /** The overlayfs lowerdir option (relative to `cwd`) for an image's layers. */
  overlayLowerdir(image: Pick<StoredImage, 'layers'>): { cwd: string; lowerdir: string } {
    return this.store.overlayLowerdir(image);
  }

  private event(action: string, id: string, name: string): Promise<void> {
    return appendEvent(this.options.paths, { type: 'image', action, id, attributes: { name } });
  }

  private async mustResolve(ref: string): Promise<StoredImage> {
    const i = await this.resolve(ref);
    if (!i) throw new NotFoundError('image', ref);
    return i;
  }

  private static info(i: StoredImage): ImageInfo {
    return { id: i.id, repoDigests: i.repoDigests, repoTags: i.repoTags };
  }

  async inspectImage(ref: string): Promise<ImageInfo> {
    return NativeImages.info(await this.mustResolve(ref));
  }

  async pullImage(
    ref: string,
    options: CallOptions & { platform?: string | undefined; onProgress?: ((event: PullProgress) => void) | undefined } = {},
  ): Promise<ImageInfo> {
    try {
      const i = await this.store.pull(ref, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.platform ? { platform: options.platform } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      await this.event('pull', ref, ref);
      return NativeImages.info(i);
    } catch (e) {
      const p = portError(e);
      if (p instanceof CodedError) throw p;
      throw new PullError(ref, (e as Error).message);
    }
  }

  async removeImage(ref: string, options: CallOptions & { force?: boolean | undefined } = {}): Promise<void> {
    const i = await this.mustResolve(ref);
    const byId = i.id === ref || i.id === `sha256:${ref}` || (/^[0-9a-f]{12,64}$/.test(ref) && i.id.slice(7).startsWith(ref));
    const inUse = (await this.options.imagesInUse()).has(i.id);
    if (byId || i.repoTags.length <= 1) {
      if (inUse && !options.force) {
        throw new ConflictError(
          'image',
          ref,
          `unable to remove repository reference "${ref}" (must force) - container is using its referenced image ${i.id.slice(7, 19)}`,
        );
      }
      if (inUse) {
        for (const t of i.repoTags) await mapped(() => this.store.untag(t));
      } else {
        await mapped(() => this.store.removeImage(i.id));
        await mapped(() => this.store.gc());
      }
    } else {
      await mapped(() => this.store.untag(ref));
    }
    await this.event('delete', ref, ref);
  }

  async listImages(options: ListOptions = {}): Promise<ImageSummary[]> {
    const all = await mapped(() => this.store.list());
    return all
      .map((i) => ({
        ...NativeImages.info(i),
        labels: (i.config.config?.Labels ?? {}) as Record<string, string>,
        created: i.created,
        sizeBytes: i.size,
      }))
      .filter((i) => matchesLabels(i.labels, options.labels));
  }

  async pushImage(ref: string, options: CallOptions & { onProgress?: ((event: PushProgress) => void) | undefined } = {}): Promise<void> {
    await this.mustResolve(ref);
    try {
      await this.store.push(ref, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } catch (e) {
      const p = portError(e);
      if (p instanceof CodedError) throw p;
      throw new PushError(ref, (e as Error).message);
    }
  }

  async tagImage(source: string, target: string): Promise<void> {
    await this.mustResolve(source);
    await mapped(() => this.store.tag(source, target));
    await this.event('tag', source, target);
  }

  async loadImage(archive: Readable, options: CallOptions = {}): Promise<LoadResult> {
    const loaded = await mapped(() => this.store.load(archive, options.signal ? { signal: options.signal } : {}));
    return { loaded };
  }

  /** `docker import` into the store (lib/image/import.ts: the layer scanner, a gzip blob, the host's platform). */
  async importImage(tarball: Readable, options: ImportOptions = {}): Promise<ImportResult> {
    const { importRootfs } = await import('../../lib/image/import.js');
    const r = await mapped(() =>
      importRootfs(this.store.root, tarball, {
        ...(options.changes ? { changes: options.changes } : {}),
        ...(options.message !== undefined ? { message: options.message } : {}),
        ...(options.tag !== undefined ? { tag: options.tag } : {}),
        ...(options.platform !== undefined ? { platform: options.platform } : {}),
        ...(options.source !== undefined ? { source: options.source } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    );
    await this.event('import', r.id, options.tag ?? r.id);
    return { id: r.id };
  }

  async saveImage(refs: readonly string[]): Promise<Readable> {
    for (const r of refs) await this.mustResolve(r);
    return mapped(() => this.store.save(refs));
  }

  async pruneImages(options: CallOptions & { all?: boolean | undefined } = {}): Promise<PruneResult> {
    const inUse = await this.options.imagesInUse();
    const deleted: string[] = [];
    for (const i of await mapped(() => this.store.list())) {
      if (inUse.has(i.id)) continue;
      if (!options.all && i.repoTags.length > 0) continue;
      for (const t of i.repoTags) deleted.push(`untagged: ${t}`);
      await mapped(() => this.store.removeImage(i.id));
      deleted.push(i.id);
    }
    const reclaimedBytes = await mapped(() => this.store.gc());
    return { deleted, reclaimedBytes };
  }

  async inspectImageDetails(ref: string): Promise<ImageDetails> {
    const i = await this.mustResolve(ref);
    const c = i.config;
    return {
      id: i.id,
      repoTags: i.repoTags,
      repoDigests: i.repoDigests,
      created: c.created ?? '',
      architecture: c.architecture,
      os: c.os,
      ...(c.variant ? { variant: c.variant } : {}),
      sizeBytes: i.size,
      ...(c.author ? { author: c.author } : {}),
      config: summarizeImageConfig(c.config),
      layers: i.layers.map((l) => l.diffId),
    };
  }
}

/**
 * The native runtime's content-addressed image store.
 *
 *   <root>/blobs/sha256/<hex>          configs, manifests and layer blobs (compressed as pulled, or plain tars)
 *   <root>/layers/<chainHex>/diff      one unpacked layer (overlayfs lower dir); layer.json beside it
 *   <root>/l/<short>                   -> ../layers/<chainHex>/diff (short names keep the mount option small)
 *   <root>/distribution/<diffHex>.json the blobs known to hold that DiffID (for push and save)
 *   <root>/images/<idHex>.json         image records
 *   <root>/repositories.json           names: canonical tag / digest reference -> image id
 *   <root>/tmp/<pid>-…                 scratch (layers are unpacked here, then renamed into place)
 *   <root>/leases/<pid>-….json         what running pulls/loads are using (gc keeps it)
 *   <root>/lock                        the metadata lock (src/lib/fs/lock.ts)
 *
 * Layers appear only by an atomic rename of a complete directory, records and names are written atomically
 * under the lock: a crash leaves at most unreferenced scratch, swept by the next store of another pid or by gc().
 *
 * The parts: layout.ts (paths, lock, scratch, leases), content.ts (layers, blobs), records.ts (image records and
 * names), gc.ts, pull.ts, push.ts, load-save.ts (archives). Errors are those of ./errors.ts.
 */
import type { Readable } from 'node:stream';
import { LayerContent } from './content.js';
import { collectGarbage } from './gc.js';
import { StoreLayout } from './layout.js';
import { loadArchive, saveImages } from './load-save.js';
import { mapNoSpace } from './no-space.js';
import type { StoreParts } from './parts.js';
import { pullImage, type PullOptions } from './pull.js';
import { pushImage, type PushOptions } from './push.js';
import { ImageRecords, type StoredImage, type StoredLayer } from './records.js';
import type { RegistryConfig } from './registry-config.js';
import { RegistryClient } from './registry.js';
import type { OciImageConfig } from './types.js';
import type { LayerBlob, StoreLease } from './diff/store-ops.js';

export type { ImageProgress } from './parts.js';
export { parsePlatform, selectManifest } from './platform.js';
export type { PullOptions } from './pull.js';
export type { PushOptions } from './push.js';
export type { StoredImage, StoredLayer } from './records.js';
export type { RegistryConfig, RegistrySettings } from './registry-config.js';
export type { OciImageConfig } from './types.js';
export type { LayerBlob, StoreLease } from './diff/store-ops.js';

export class ImageStore {
  readonly root: string;
  private readonly parts: StoreParts;

  /** `registry`: mirrors, plain-HTTP registries and credentials (registry-config.ts loadRegistryConfig). */
  constructor(root: string, registry: RegistryConfig) {
    this.root = root;
    const layout = new StoreLayout(root);
    this.parts = {
      layout,
      content: new LayerContent(layout),
      records: new ImageRecords(layout),
      registry,
      client: new RegistryClient(registry),
    };
  }

  /** The image a reference, `sha256:<id or prefix>` or a 12+ digit id prefix names, if any. */
  async resolve(refOrId: string): Promise<StoredImage | undefined> {
    await this.parts.layout.init();
    const r = await this.parts.records.resolve(refOrId);
    return r ? this.parts.records.toStored(r.record, r.names) : undefined;
  }

  /** Every image, newest first. */
  async list(): Promise<StoredImage[]> {
    await this.parts.layout.init();
    const { records } = this.parts;
    const names = await records.readNames();
    return (await records.allRecords()).map((r) => records.toStored(r, names)).sort((a, b) => b.created - a.created || a.id.localeCompare(b.id));
  }

  /** Absolute paths of the unpacked layer directories, bottom → top. */
  layerDirs(image: Pick<StoredImage, 'layers'>): string[] {
    return this.parts.content.layerDirs(image.layers);
  }

  /** The `lowerdir=` option of an overlay mount of the image, relative to `cwd` (top layer first). */
  overlayLowerdir(image: Pick<StoredImage, 'layers'>): { cwd: string; lowerdir: string } {
    return this.parts.content.overlayLowerdir(image.layers);
  }

  /** Gives the image `source` the tag `target`. */
  async tag(source: string, target: string): Promise<void> {
    await this.parts.layout.init();
    await this.parts.records.tag(source, target);
  }

  /** Removes the name `ref`; an image left without tags is removed too (`deletedId`; its content stays until gc). */
  async untag(ref: string): Promise<{ untagged: string[]; deletedId?: string }> {
    await this.parts.layout.init();
    return this.parts.records.untag(ref);
  }

  /** Removes an image and all its names (its content stays until gc). */
  async removeImage(id: string): Promise<void> {
    await this.parts.layout.init();
    await this.parts.records.remove(id);
  }

  /** Deletes layers, blobs and scratch no image (and no running pull/load) uses; returns the bytes freed. */
  async gc(): Promise<number> {
    await this.parts.layout.init();
    return collectGarbage(this.parts);
  }

  async pull(ref: string, opts: PullOptions = {}): Promise<StoredImage> {
    await this.parts.layout.init();
    return mapNoSpace(`pulling ${ref}`, this.root, () => pullImage(this.parts, ref, opts));
  }

  async push(ref: string, opts: PushOptions = {}): Promise<void> {
    await this.parts.layout.init();
    return mapNoSpace(`pushing ${ref}`, this.root, () => pushImage(this.parts, ref, opts));
  }

  async load(archive: NodeJS.ReadableStream | Readable, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    await this.parts.layout.init();
    return mapNoSpace('loading an image archive', this.root, () => loadArchive(this.parts, archive, opts));
  }

  /** A docker-archive (Docker 20.10 `docker save` layout) of the images; `docker load` accepts it. */
  async save(refs: readonly string[]): Promise<Readable> {
    await this.parts.layout.init();
    return saveImages(this.parts, refs);
  }

  // Builds (diff/commit.ts): layers and images made here rather than pulled or loaded (diff/store-ops.ts).

  /** Adds the layer blob `file` (plain or gzip tar, described by `blob`) on top of `parentChainId`; unpacked as pulled. */
  async addLayer(file: string, blob: LayerBlob, parentChainId?: string, opts: { signal?: AbortSignal } = {}): Promise<StoredLayer> {
    await this.parts.layout.init();
    const { addLayerFile } = await import('./diff/store-ops.js');
    return mapNoSpace(`adding layer ${blob.diffId}`, this.root, () => addLayerFile(this.parts, file, blob, parentChainId, opts));
  }

  /**
   * Takes an overlay upper directory as the layer on top of `parentChainId` by moving it into the store (no tar, no
   * unpacking; the blob is made when push or save needs it). Undefined when it is on another filesystem.
   */
  async adoptLayer(upper: string, parentChainId?: string, opts: { signal?: AbortSignal } = {}): Promise<StoredLayer | undefined> {
    await this.parts.layout.init();
    const { adoptLayerDir } = await import('./diff/store-ops.js');
    return mapNoSpace('adding a layer', this.root, () => adoptLayerDir(this.parts, upper, parentChainId, opts));
  }

  /** Writes the image of `config` (every layer of rootfs.diff_ids must be in the store) with the tags `tags`. */
  async addImage(config: OciImageConfig, tags: readonly string[] = []): Promise<StoredImage> {
    await this.parts.layout.init();
    const { addImageRecord } = await import('./diff/store-ops.js');
    return mapNoSpace(`writing image ${tags[0] ?? 'record'}`, this.root, () => addImageRecord(this.parts, config, tags));
  }

  /** A lease gc honours until released: hold one over a build (diff/store-ops.ts StoreLease). */
  async lease(): Promise<StoreLease> {
    await this.parts.layout.init();
    const { StoreLease: Lease } = await import('./diff/store-ops.js');
    return Lease.open(this.parts.layout);
  }

  /** A fresh path in the store's scratch directory (same filesystem as the store; swept once this process is gone). */
  async scratch(suffix = ''): Promise<string> {
    await this.parts.layout.init();
    return this.parts.layout.scratch(suffix);
  }
}

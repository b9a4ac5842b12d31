/**
 * What a build adds to the store (ImageStore.addLayer / addImage / lease): a layer from a finished layer blob, in
 * the layout pulled layers get (layers/<chain>/diff unpacked by the same unpacker, the blob in blobs/ and listed in
 * distribution/ for push and save), and an image record from a config whose every layer is present.
 *
 * Atomic as pull and load are: the layer directory appears only by the rename of a complete one (content.ts
 * installLayer), the record and its names are written under the store's lock (records.ts commit). A failed
 * commit leaves at most an unreferenced blob or scratch that gc() removes; two commits at once share the lock.
 */
import { createReadStream } from 'node:fs';
import { copyFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isErrno } from '../../errors.js';
import { writeJsonAtomic } from '../../fs/atomic.js';
import { chainIds, sha256 } from '../digest.js';
import { digestLayer } from './diff.js';
import { InvalidReferenceError } from '../errors.js';
import { unpackLayer } from '../layer.js';
import type { StoreLayout } from '../layout.js';
import type { StoreParts } from '../parts.js';
import { makeRecord, parseConfig, type StoredImage, type StoredLayer } from '../records.js';
import { normalizeRef } from '../reference.js';
import type { OciImageConfig } from '../types.js';
import { ImageCommitError } from './errors.js';

/** A layer blob as writeLayer (diff.ts) describes it. */
export interface LayerBlob {
  diffId: string;
  digest: string;
  size: number;
  mediaType: string;
}

/** Adds the layer in `file` (plain or gzip tar) on top of the layer `parentChainId` (none: a bottom layer). */
export async function addLayerFile(
  { layout, content }: Pick<StoreParts, 'layout' | 'content'>,
  file: string,
  blob: LayerBlob,
  parentChainId: string | undefined,
  opts: { signal?: AbortSignal } = {},
): Promise<StoredLayer> {
  if (parentChainId !== undefined && !(await content.hasLayer(parentChainId))) {
    throw new ImageCommitError(`the parent layer ${parentChainId} is not in the store`);
  }
  const chainId = parentChainId === undefined ? blob.diffId : sha256(`${parentChainId} ${blob.diffId}`);
  await layout.withLease([chainId, blob.diffId, blob.digest], async () => {
    await content.installLayer(chainId, blob.diffId, parentChainId, (dir) =>
      unpackLayer(createReadStream(file), dir, {
        expectedDiffId: blob.diffId,
        label: `layer ${blob.diffId}`,
        ...(opts.signal ? { signal: opts.signal } : {}),
      }),
    );
    if (!(await layout.exists(layout.blobPath(blob.digest)))) {
      try {
        await content.putBlobFile(blob.digest, file, false);
      } catch (e) {
        if (!isErrno(e, 'EXDEV')) throw e;
        const tmp = layout.scratch('.blob');
        try {
          await copyFile(file, tmp);
          await content.putBlobFile(blob.digest, tmp, true);
        } finally {
          await rm(tmp, { force: true });
        }
      }
    }
    await content.addDistribution(blob.diffId, { digest: blob.digest, mediaType: blob.mediaType, size: blob.size });
  });
  const meta = await content.readLayerMeta(chainId);
  return { diffId: blob.diffId, chainId, size: meta.size };
}

/**
 * Takes the upper directory `upper` (overlayfs's format: whiteouts as 0/0 character devices, opaque directories by
 * xattr, which is also the store's layer format) as the layer on top of `parentChainId`, by renaming it into the
 * store: no tar is written and nothing unpacked. Its blob is made when push or save first needs one (content.ts
 * layerTar, push.ts), from the directory, and checked against the DiffID computed here. Undefined when `upper` is on
 * another filesystem than the store (then the caller writes a blob and unpacks, addLayerFile). `upper` is gone
 * afterwards, or left in place when the store already had the layer.
 */
export async function adoptLayerDir(
  { layout, content }: Pick<StoreParts, 'layout' | 'content'>,
  upper: string,
  parentChainId: string | undefined,
  opts: { signal?: AbortSignal } = {},
): Promise<StoredLayer | undefined> {
  if ((await stat(upper)).dev !== (await stat(layout.path('tmp'))).dev) return undefined;
  if (parentChainId !== undefined && !(await content.hasLayer(parentChainId))) {
    throw new ImageCommitError(`the parent layer ${parentChainId} is not in the store`);
  }
  const { diffId, tarSize, size } = await digestLayer(upper, opts.signal ? { signal: opts.signal } : {});
  const chainId = parentChainId === undefined ? diffId : sha256(`${parentChainId} ${diffId}`);
  await layout.withLease([chainId, diffId], async () => {
    await content.installLayer(chainId, diffId, parentChainId, async (dir) => {
      await rename(upper, dir);
      return { diffId, size, tarSize, compression: 'none' };
    });
  });
  const meta = await content.readLayerMeta(chainId);
  return { diffId, chainId, size: meta.size };
}

/** Writes the image of `config` (its layers must be in the store) and gives it the tags. */
export async function addImageRecord(
  { layout, content, records }: Pick<StoreParts, 'layout' | 'content' | 'records'>,
  config: OciImageConfig,
  tags: readonly string[],
): Promise<StoredImage> {
  const bytes = Buffer.from(JSON.stringify(config));
  const id = sha256(bytes);
  parseConfig(bytes, `image ${id}`);
  const canonical = tags.map((t) => {
    const ref = normalizeRef(t);
    if (ref.digest !== undefined) throw new InvalidReferenceError(t, 'cannot tag with a digest reference');
    return ref.canonical;
  });
  const chains = chainIds(config.rootfs.diff_ids);
  await layout.withLease([id, ...chains], async () => {
    for (const c of chains) if (!(await content.hasLayer(c))) throw new ImageCommitError(`the layer ${c} is not in the store`);
    await content.putBlobBytes(id, bytes);
    const metas = await Promise.all(chains.map((c) => content.readLayerMeta(c)));
    await records.commit(makeRecord(id, config, metas), canonical, []);
  });
  const found = await records.resolve(id);
  if (!found) throw new ImageCommitError(`image ${id} vanished after its commit`);
  return records.toStored(found.record, found.names);
}

/**
 * A lease that grows: gc keeps every digest added (layers by chain id, blobs, images) until release(). Hold one
 * over a whole build, so the layers of steps not yet in an image survive a concurrent gc.
 */
export class StoreLease {
  private readonly digests: string[] = [];
  private released = false;

  constructor(
    private readonly layout: StoreLayout,
    readonly path: string,
  ) {}

  static async open(layout: StoreLayout): Promise<StoreLease> {
    const lease = new StoreLease(layout, layout.path('leases', `${layout.scratch().split('/').pop()!}.json`));
    await writeFile(lease.path, '[]\n');
    return lease;
  }

  async add(...digests: string[]): Promise<void> {
    if (this.released) throw new ImageCommitError('the lease was already released');
    this.digests.push(...digests);
    // no fsync: a lease only matters while its process lives
    await writeJsonAtomic(this.path, this.digests, { durable: false });
  }

  async release(): Promise<void> {
    this.released = true;
    await rm(this.path, { force: true });
  }
}

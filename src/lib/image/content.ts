/**
 * The store's content: unpacked layers (layers/<chain>/diff with layer.json, and the short links in l/ that keep
 * overlay mount options small), blobs (blobs/sha256/<hex>) and, per DiffID, the blobs known to hold it
 * (distribution/<diff>.json, for push and save). A layer appears only by the rename of a complete directory.
 */
import { createReadStream } from 'node:fs';
import { link, mkdir, readFile, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { isErrno } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../fs/atomic.js';
import { hexOf, sha256, shortLinkName } from './digest.js';
import { DigestMismatchError, ImageStoreError } from './errors.js';
import type { UnpackResult } from './layer.js';
import type { StoreLayout } from './layout.js';
import { peek, sniffCompression } from './streams.js';

/** layers/<chain>/layer.json. */
export interface LayerMeta {
  chainId: string;
  diffId: string;
  parent?: string;
  size: number;
  /** Bytes of the uncompressed tar. */
  tarSize: number;
  link: string;
}

/** A blob holding a layer's tar (plain or compressed) as a registry or an archive had it. */
export interface DistributionBlob {
  digest: string;
  mediaType: string;
  size: number;
}

export class LayerContent {
  /** Layers being installed by this process (two pulls of one layer share the work). */
  private readonly installing = new Map<string, Promise<void>>();

  constructor(private readonly layout: StoreLayout) {}

  hasLayer(chainId: string): Promise<boolean> {
    return this.layout.exists(join(this.layout.layerRoot(chainId), 'layer.json'));
  }

  /**
   * Whether the layer is installed, its link (`l/<short>`, which overlay mounts name) made again when missing: an
   * install killed between moving the layer into place and making its link left a layer that looked installed to
   * every later pull, load and build, and that no container could mount.
   */
  async layerInPlace(chainId: string): Promise<boolean> {
    if (!(await this.hasLayer(chainId))) return false;
    await this.ensureLink(chainId);
    return true;
  }

  async readLayerMeta(chainId: string): Promise<LayerMeta> {
    return JSON.parse(await readFile(join(this.layout.layerRoot(chainId), 'layer.json'), 'utf8')) as LayerMeta;
  }

  /** Absolute paths of the unpacked layer directories, bottom → top. */
  layerDirs(layers: readonly { chainId: string }[]): string[] {
    return layers.map((l) => join(this.layout.layerRoot(l.chainId), 'diff'));
  }

  /**
   * The `lowerdir=` value for an overlay mount run with `cwd`: top layer first, as `l/<10 chars>` relative links,
   * so even 150+ layers stay well under the 4096-byte mount data limit.
   */
  overlayLowerdir(layers: readonly { chainId: string }[]): { cwd: string; lowerdir: string } {
    return {
      cwd: this.layout.root,
      lowerdir: [...layers]
        .reverse()
        .map((l) => `l/${shortLinkName(l.chainId)}`)
        .join(':'),
    };
  }

  private async ensureLink(chainId: string): Promise<void> {
    const name = this.layout.path('l', shortLinkName(chainId));
    const target = `../layers/${hexOf(chainId)}/diff`;
    try {
      await symlink(target, name);
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
      const have = await readlink(name);
      if (have !== target) {
        // A dangling link of a collected layer with the same short name: replace it; a live one is a collision.
        if (await this.layout.exists(this.layout.path('l', have))) {
          throw new ImageStoreError('TSC_INTERNAL', `layer link ${name} already points to ${have}, not ${target}`);
        }
        await unlink(name);
        await symlink(target, name);
      }
    }
  }

  /**
   * Installs a layer: `produce` unpacks into an empty scratch dir; the complete layer dir is then renamed into
   * place. If another process got there first its copy is kept. Whether this call installed it.
   */
  async installLayer(chainId: string, diffId: string, parent: string | undefined, produce: (dir: string) => Promise<UnpackResult>): Promise<boolean> {
    if (await this.layerInPlace(chainId)) return false;
    const running = this.installing.get(chainId);
    if (running) {
      await running;
      return false;
    }
    const work = (async () => {
      const tmp = this.layout.scratch();
      await mkdir(tmp);
      try {
        const r = await produce(join(tmp, 'diff'));
        if (r.diffId !== diffId) throw new DigestMismatchError('layer', diffId, r.diffId);
        const meta: LayerMeta = { chainId, diffId, size: r.size, tarSize: r.tarSize, link: shortLinkName(chainId), ...(parent ? { parent } : {}) };
        await writeJsonAtomic(join(tmp, 'layer.json'), meta);
        try {
          await rename(tmp, this.layout.layerRoot(chainId));
        } catch (e) {
          if (!isErrno(e, 'ENOTEMPTY', 'EEXIST')) throw e;
        }
        await this.ensureLink(chainId);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    })();
    this.installing.set(chainId, work);
    try {
      await work;
      return true;
    } finally {
      this.installing.delete(chainId);
    }
  }

  /** Moves (or hard-links) a verified file into blobs/. */
  async putBlobFile(digest: string, file: string, move: boolean): Promise<void> {
    const dest = this.layout.blobPath(digest);
    if (move) {
      await rename(file, dest);
      return;
    }
    try {
      await link(file, dest);
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    }
  }

  async putBlobBytes(digest: string, bytes: Buffer): Promise<void> {
    if (sha256(bytes) !== digest) throw new DigestMismatchError('blob', digest, sha256(bytes));
    if (await this.layout.exists(this.layout.blobPath(digest))) return;
    await writeFileAtomic(this.layout.blobPath(digest), bytes);
  }

  async readDistribution(diffId: string): Promise<DistributionBlob[]> {
    try {
      return JSON.parse(await readFile(this.layout.distributionPath(diffId), 'utf8')) as DistributionBlob[];
    } catch {
      return [];
    }
  }

  async addDistribution(diffId: string, blob: DistributionBlob): Promise<void> {
    await this.layout.locked(async () => {
      const list = await this.readDistribution(diffId);
      if (list.some((b) => b.digest === blob.digest)) return;
      list.push(blob);
      await writeJsonAtomic(this.layout.distributionPath(diffId), list);
    });
  }

  /** Blobs present locally that hold this DiffID. */
  async localBlobsFor(diffId: string): Promise<DistributionBlob[]> {
    const out: DistributionBlob[] = [];
    for (const b of await this.readDistribution(diffId)) if (await this.layout.exists(this.layout.blobPath(b.digest))) out.push(b);
    return out;
  }

  /** A plain-tar stream of a layer (gunzipping its blob when it is only stored compressed). */
  async layerTar(l: { chainId: string; diffId: string }): Promise<{ stream: Readable; size: number }> {
    const meta = await this.readLayerMeta(l.chainId).catch(() => undefined);
    if (!meta) throw new ImageStoreError('TSC_IMAGE_NO_BLOB', `layer ${l.chainId} is missing from the store`);
    const blobs = await this.localBlobsFor(l.diffId);
    const plain = blobs.find((b) => b.digest === l.diffId);
    if (plain) return { stream: createReadStream(this.layout.blobPath(plain.digest)), size: meta.tarSize };
    for (const b of blobs) {
      const { head, stream } = await peek(createReadStream(this.layout.blobPath(b.digest)), 6);
      const kind = sniffCompression(head);
      if (kind === 'gzip') {
        const gunzip = createGunzip();
        pipeline(stream, gunzip).catch((e: unknown) => gunzip.destroy(e as Error));
        return { stream: gunzip, size: meta.tarSize };
      }
      if (kind === 'none') return { stream, size: meta.tarSize };
      stream.destroy();
    }
    if (blobs.length === 0) {
      // a layer a build adopted (diff/store-ops.ts adoptLayerDir): its tar, from its directory, checked on the way
      const { layerTarStream } = await import('./diff/diff.js');
      return { stream: verified(await layerTarStream(join(this.layout.layerRoot(l.chainId), 'diff')), l.diffId), size: meta.tarSize };
    }
    throw new ImageStoreError('TSC_IMAGE_NO_BLOB', `layer ${l.diffId} has no readable blob`);
  }
}

/** `stream`, failing at its end unless its bytes hash to `digest`. */
function verified(stream: Readable, digest: string): Readable {
  const hash = createHash('sha256');
  const out = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const got = `sha256:${hash.digest('hex')}`;
      cb(got === digest ? null : new DigestMismatchError('layer', digest, got));
    },
  });
  pipeline(stream, out).catch((e: unknown) => out.destroy(e as Error));
  return out;
}

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
 *   <root>/lock                        the metadata lock (lock.ts)
 *
 * Layers appear only by an atomic rename of a complete directory, records and names are written atomically
 * under the lock: a crash leaves at most unreferenced scratch, swept by the next store of another pid or by gc().
 */
import { createReadStream, openAsBlob } from 'node:fs';
import { link, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { TsComposeError } from '../../errors.js';
import { ConflictError, NotFoundError, PullError, PushError } from '../../runtime/errors.js';
import type { ArchiveImage } from './archive.js';
import { chainIds, hexOf, isSha256Digest, sha256, shortLinkName } from './digest.js';
import { diskUsage, isErrno, pidAlive, tempName, writeFileAtomic, writeJsonAtomic } from './fsutil.js';
import { DigestMismatchError, unpackLayer, type UnpackResult } from './layer.js';
import { withLock } from './lock.js';
import { familiarName, normalizeRef, tryNormalizeRef, type ImageReference } from './reference.js';
import { registryConfigFromEnv, type RegistryConfig } from './registry-config.js';
import { RegistryClient, RegistryError, endpointsFor, type Endpoint } from './registry.js';
import { digestTap, mapLimit, peek, sniffCompression } from './streams.js';
import { LayerRejectedError } from './tar-scan.js';
import { INDEX_TYPES, MANIFEST_TYPES, MT, type Descriptor, type ImageIndex, type ImageManifest, type OciImageConfig, type Platform } from './types.js';

export type { RegistryConfig } from './registry-config.js';
export type { OciImageConfig } from './types.js';

export interface StoredLayer {
  diffId: string;
  chainId: string;
  /** Bytes of the unpacked files. */
  size: number;
}

export interface StoredImage {
  /** `sha256:<hex of the config blob>`. */
  id: string;
  /** Familiar names: `busybox:latest`, `127.0.0.1:5001/foo:1`. */
  repoTags: string[];
  /** `busybox@sha256:<manifest digest>`. */
  repoDigests: string[];
  config: OciImageConfig;
  /** Bottom → top. */
  layers: StoredLayer[];
  /** Unix ms of config.created (0 when absent). */
  created: number;
  /** Sum of the unpacked layer sizes. */
  size: number;
}

/** A progress event of pull/push (the runtime's PullProgress shape). */
export interface ImageProgress {
  ref: string;
  layer?: string;
  status: string;
  current?: number;
  total?: number;
}

export interface PullOptions {
  signal?: AbortSignal;
  /** `linux/arm64`, `linux/arm/v7`; default linux/<this machine>. */
  platform?: string;
  onProgress?: (e: ImageProgress) => void;
}

export interface PushOptions {
  signal?: AbortSignal;
  onProgress?: (e: ImageProgress) => void;
}

interface ImageRecord {
  id: string;
  config: OciImageConfig;
  layers: StoredLayer[];
  created: number;
  size: number;
  /** The platform manifest this image came with (pull, OCI load), kept as a blob so push can reuse it. */
  manifest?: { digest: string; mediaType: string };
  /** Other blobs to keep (the index it was pulled through). */
  extraBlobs?: string[];
}

interface Names {
  /** Canonical `registry/repo:tag` → id. */
  tags: Record<string, string>;
  /** Canonical `registry/repo@sha256:…` → id. */
  digests: Record<string, string>;
}

interface LayerMeta {
  chainId: string;
  diffId: string;
  parent?: string;
  size: number;
  tarSize: number;
  link: string;
}

interface DistributionBlob {
  digest: string;
  mediaType: string;
  size: number;
}

const GZIP_TYPES: readonly string[] = [MT.dockerLayerGzip, MT.ociLayerGzip];
const TAR_TYPES: readonly string[] = [MT.dockerLayer, MT.ociLayer];

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };

/** The platform to pull: `os/arch[/variant]` or this machine. */
export function parsePlatform(spec?: string): Platform {
  if (spec === undefined || spec === '') {
    const architecture = ARCH[process.arch] ?? process.arch;
    const p: Platform = { os: 'linux', architecture };
    if (architecture === 'arm') p.variant = 'v7';
    return p;
  }
  const [os, architecture, variant] = spec.toLowerCase().split('/');
  if (!os || !architecture) throw new TsComposeError('TSC_INVALID_PLATFORM', `invalid platform ${JSON.stringify(spec)}: want os/arch[/variant]`);
  const p: Platform = { os, architecture: architecture === 'x86_64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture };
  if (variant) p.variant = variant;
  return p;
}

function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Picks the manifest of an index for a platform (arm64's default variant v8 matches an entry without variant). */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor | undefined {
  const candidates = (index.manifests ?? []).filter(
    (m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture && (MANIFEST_TYPES.includes(m.mediaType) || INDEX_TYPES.includes(m.mediaType) || !m.mediaType),
  );
  const norm = (v: string | undefined): string | undefined => (want.architecture === 'arm64' && v === undefined ? 'v8' : v);
  if (want.variant !== undefined) {
    return candidates.find((m) => norm(m.platform!.variant) === want.variant) ?? candidates.find((m) => m.platform!.variant === undefined);
  }
  return candidates.find((m) => norm(m.platform!.variant) === norm(undefined)) ?? candidates[0];
}

function shortDigest(d: string): string {
  return hexOf(d).slice(0, 12);
}

const emptyNames = (): Names => ({ tags: {}, digests: {} });

export class ImageStore {
  readonly root: string;
  private readonly registry: RegistryConfig;
  private readonly client: RegistryClient;
  private ready: Promise<void> | undefined;
  /** Layers being installed by this process (two pulls of one layer share the work). */
  private readonly installing = new Map<string, Promise<void>>();

  constructor(root: string, registry?: RegistryConfig) {
    this.root = root;
    this.registry = registry ?? registryConfigFromEnv(process.env);
    this.client = new RegistryClient(this.registry);
  }

  // ---------------------------------------------------------------------------------------------- layout

  private p(...parts: string[]): string {
    return join(this.root, ...parts);
  }
  private blobPath(digest: string): string {
    return this.p('blobs', 'sha256', hexOf(digest));
  }
  private layerRoot(chainId: string): string {
    return this.p('layers', hexOf(chainId));
  }
  private get lockPath(): string {
    return this.p('lock');
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      for (const d of ['blobs/sha256', 'layers', 'l', 'distribution', 'images', 'tmp', 'leases']) await mkdir(this.p(d), { recursive: true });
      await this.sweep();
    })();
    return this.ready;
  }

  /** Removes scratch and leases of processes that are gone. */
  private async sweep(): Promise<void> {
    for (const d of ['tmp', 'leases']) {
      for (const name of await readdir(this.p(d)).catch(() => [] as string[])) {
        const pid = Number(/^(?:gc-)?(\d+)-/.exec(name)?.[1]);
        if (pid === process.pid || pidAlive(pid)) continue;
        await rm(this.p(d, name), { recursive: true, force: true });
      }
    }
  }

  private async withLease<T>(digests: readonly string[], fn: () => Promise<T>): Promise<T> {
    const path = this.p('leases', `${tempName()}.json`);
    await writeJsonAtomic(path, digests);
    try {
      return await fn();
    } finally {
      await rm(path, { force: true });
    }
  }

  private async readNames(): Promise<Names> {
    try {
      const n = JSON.parse(await readFile(this.p('repositories.json'), 'utf8')) as Partial<Names>;
      return { tags: n.tags ?? {}, digests: n.digests ?? {} };
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return emptyNames();
      throw e;
    }
  }

  private async writeNames(n: Names): Promise<void> {
    await writeJsonAtomic(this.p('repositories.json'), n);
  }

  private async readRecord(id: string): Promise<ImageRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.p('images', `${hexOf(id)}.json`), 'utf8')) as ImageRecord;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  private async allRecords(): Promise<ImageRecord[]> {
    const out: ImageRecord[] = [];
    for (const f of await readdir(this.p('images'))) {
      if (!/^[a-f0-9]{64}\.json$/.test(f)) continue;
      const r = await this.readRecord(f.slice(0, 64));
      if (r) out.push(r);
    }
    return out;
  }

  private toStored(r: ImageRecord, names: Names): StoredImage {
    const repoTags = Object.entries(names.tags)
      .filter(([, id]) => id === r.id)
      .map(([ref]) => normalizeRef(ref).familiar)
      .sort();
    const repoDigests = Object.entries(names.digests)
      .filter(([, id]) => id === r.id)
      .map(([ref]) => normalizeRef(ref).familiar)
      .sort();
    return { id: r.id, repoTags, repoDigests, config: r.config, layers: r.layers, created: r.created, size: r.size };
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await lstat(path);
      return true;
    } catch {
      return false;
    }
  }

  private hasLayer(chainId: string): Promise<boolean> {
    return this.exists(join(this.layerRoot(chainId), 'layer.json'));
  }

  private async readLayerMeta(chainId: string): Promise<LayerMeta> {
    return JSON.parse(await readFile(join(this.layerRoot(chainId), 'layer.json'), 'utf8')) as LayerMeta;
  }

  private async ensureLink(chainId: string): Promise<void> {
    const name = this.p('l', shortLinkName(chainId));
    const target = `../layers/${hexOf(chainId)}/diff`;
    try {
      await symlink(target, name);
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
      const have = await readlink(name);
      if (have !== target) {
        // A dangling link of a collected layer with the same short name: replace it; a live one is a collision.
        if (await this.exists(join(this.root, 'l', have))) {
          throw new TsComposeError('TSC_INTERNAL', `layer link ${name} already points to ${have}, not ${target}`);
        }
        await unlink(name);
        await symlink(target, name);
      }
    }
  }

  /**
   * Installs a layer: `produce` unpacks into an empty scratch dir; the complete layer dir is then renamed into
   * place. If another process got there first its copy is kept.
   */
  private async installLayer(chainId: string, diffId: string, parent: string | undefined, produce: (dir: string) => Promise<UnpackResult>): Promise<boolean> {
    if (await this.hasLayer(chainId)) return false;
    const running = this.installing.get(chainId);
    if (running) {
      await running;
      return false;
    }
    const work = (async () => {
      const tmp = this.p('tmp', tempName());
      await mkdir(tmp);
      try {
        const r = await produce(join(tmp, 'diff'));
        if (r.diffId !== diffId) throw new DigestMismatchError('layer', diffId, r.diffId);
        const meta: LayerMeta = { chainId, diffId, size: r.size, tarSize: r.tarSize, link: shortLinkName(chainId), ...(parent ? { parent } : {}) };
        await writeJsonAtomic(join(tmp, 'layer.json'), meta);
        try {
          await rename(tmp, this.layerRoot(chainId));
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
  private async putBlobFile(digest: string, file: string, move: boolean): Promise<void> {
    const dest = this.blobPath(digest);
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

  private async putBlobBytes(digest: string, bytes: Buffer): Promise<void> {
    if (sha256(bytes) !== digest) throw new DigestMismatchError('blob', digest, sha256(bytes));
    if (await this.exists(this.blobPath(digest))) return;
    await writeFileAtomic(this.blobPath(digest), bytes);
  }

  private async readDistribution(diffId: string): Promise<DistributionBlob[]> {
    try {
      return JSON.parse(await readFile(this.p('distribution', `${hexOf(diffId)}.json`), 'utf8')) as DistributionBlob[];
    } catch {
      return [];
    }
  }

  private async addDistribution(diffId: string, blob: DistributionBlob): Promise<void> {
    await withLock(this.lockPath, async () => {
      const list = await this.readDistribution(diffId);
      if (list.some((b) => b.digest === blob.digest)) return;
      list.push(blob);
      await writeJsonAtomic(this.p('distribution', `${hexOf(diffId)}.json`), list);
    });
  }

  /** Blobs present locally that hold this DiffID. */
  private async localBlobsFor(diffId: string): Promise<DistributionBlob[]> {
    const out: DistributionBlob[] = [];
    for (const b of await this.readDistribution(diffId)) if (await this.exists(this.blobPath(b.digest))) out.push(b);
    return out;
  }

  /** Writes the image record and names. */
  private async commitImage(record: ImageRecord, tags: readonly string[], digestRefs: readonly string[]): Promise<void> {
    await withLock(this.lockPath, async () => {
      await writeJsonAtomic(this.p('images', `${hexOf(record.id)}.json`), record);
      const names = await this.readNames();
      for (const t of tags) names.tags[t] = record.id;
      for (const d of digestRefs) names.digests[d] = record.id;
      await this.writeNames(names);
    });
  }

  private makeRecord(id: string, config: OciImageConfig, metas: LayerMeta[], extra: Partial<ImageRecord> = {}): ImageRecord {
    const layers = metas.map((m) => ({ diffId: m.diffId, chainId: m.chainId, size: m.size }));
    const created = config.created ? Date.parse(config.created) : NaN;
    return {
      id,
      config,
      layers,
      created: Number.isFinite(created) ? created : 0,
      size: layers.reduce((s, l) => s + l.size, 0),
      ...extra,
    };
  }

  private static parseConfig(bytes: Buffer, what: string): OciImageConfig {
    let config: OciImageConfig;
    try {
      config = JSON.parse(bytes.toString('utf8')) as OciImageConfig;
    } catch (e) {
      throw new TsComposeError('TSC_IMAGE_CONFIG', `${what}: the image config is not JSON`, { cause: e });
    }
    if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids) || !config.rootfs.diff_ids.every(isSha256Digest)) {
      throw new TsComposeError('TSC_IMAGE_CONFIG', `${what}: the image config has no valid rootfs.diff_ids`);
    }
    return config;
  }

  // ---------------------------------------------------------------------------------------------- queries

  async resolve(refOrId: string): Promise<StoredImage | undefined> {
    await this.init();
    const r = await this.resolveRecord(refOrId);
    return r ? this.toStored(r.record, r.names) : undefined;
  }

  private async resolveRecord(refOrId: string): Promise<{ record: ImageRecord; names: Names; ref?: ImageReference } | undefined> {
    const s = refOrId.trim();
    const names = await this.readNames();
    const idPrefix = (hex: string): Promise<ImageRecord | undefined> => this.byIdPrefix(hex, refOrId);
    const m = /^sha256:([a-f0-9]{1,64})$/.exec(s);
    if (m) {
      const rec = await idPrefix(m[1]!);
      return rec ? { record: rec, names } : undefined;
    }
    const ref = tryNormalizeRef(s);
    if (ref) {
      const key = ref.digest !== undefined ? `${ref.registry}/${ref.repository}@${ref.digest}` : ref.canonical;
      const id = ref.digest !== undefined ? names.digests[key] : names.tags[key];
      if (id) {
        const rec = await this.readRecord(id);
        if (rec) return { record: rec, names, ref };
      }
    }
    if (/^[a-f0-9]{12,64}$/.test(s)) {
      const rec = await idPrefix(s);
      if (rec) return { record: rec, names };
    }
    return undefined;
  }

  private async byIdPrefix(hex: string, shown: string): Promise<ImageRecord | undefined> {
    if (hex.length === 64) return this.readRecord(hex);
    const matches = (await readdir(this.p('images'))).filter((f) => /^[a-f0-9]{64}\.json$/.test(f) && f.startsWith(hex));
    if (matches.length > 1) throw new ConflictError('image', shown, 'ambiguous short id');
    return matches[0] ? this.readRecord(matches[0].slice(0, 64)) : undefined;
  }

  async list(): Promise<StoredImage[]> {
    await this.init();
    const names = await this.readNames();
    return (await this.allRecords()).map((r) => this.toStored(r, names)).sort((a, b) => b.created - a.created || a.id.localeCompare(b.id));
  }

  /** Absolute paths of the unpacked layer directories, bottom → top. */
  layerDirs(image: Pick<StoredImage, 'layers'>): string[] {
    return image.layers.map((l) => join(this.layerRoot(l.chainId), 'diff'));
  }

  /**
   * The `lowerdir=` value for an overlay mount run with `cwd`: top layer first, as `l/<10 chars>` relative links,
   * so even 150+ layers stay well under the 4096-byte mount data limit.
   */
  overlayLowerdir(image: Pick<StoredImage, 'layers'>): { cwd: string; lowerdir: string } {
    return {
      cwd: this.root,
      lowerdir: [...image.layers]
        .reverse()
        .map((l) => `l/${shortLinkName(l.chainId)}`)
        .join(':'),
    };
  }

  // ---------------------------------------------------------------------------------------------- names

  async tag(source: string, target: string): Promise<void> {
    await this.init();
    const src = await this.resolveRecord(source);
    if (!src) throw new NotFoundError('image', source);
    const t = normalizeRef(target);
    if (t.digest !== undefined) throw new TsComposeError('TSC_INVALID_REFERENCE', `cannot tag with a digest reference: ${target}`);
    await withLock(this.lockPath, async () => {
      const names = await this.readNames();
      names.tags[t.canonical] = src.record.id;
      await this.writeNames(names);
    });
  }

  async untag(ref: string): Promise<{ untagged: string[]; deletedId?: string }> {
    await this.init();
    const r = normalizeRef(ref);
    return withLock(this.lockPath, async () => {
      const names = await this.readNames();
      const untagged: string[] = [];
      let id: string | undefined;
      if (r.digest !== undefined) {
        const key = `${r.registry}/${r.repository}@${r.digest}`;
        id = names.digests[key];
        if (id !== undefined) {
          delete names.digests[key];
          untagged.push(familiarName(r.registry, r.repository) + `@${r.digest}`);
        }
      } else {
        id = names.tags[r.canonical];
        if (id !== undefined) {
          delete names.tags[r.canonical];
          untagged.push(r.familiar);
        }
      }
      if (id === undefined) throw new NotFoundError('image', ref);
      const result: { untagged: string[]; deletedId?: string } = { untagged };
      if (!Object.values(names.tags).includes(id)) {
        for (const [k, v] of Object.entries(names.digests)) {
          if (v !== id) continue;
          delete names.digests[k];
          untagged.push(normalizeRef(k).familiar);
        }
        await rm(this.p('images', `${hexOf(id)}.json`), { force: true });
        result.deletedId = id;
      }
      await this.writeNames(names);
      return result;
    });
  }

  async removeImage(id: string): Promise<void> {
    await this.init();
    const found = await this.resolveRecord(id);
    if (!found) throw new NotFoundError('image', id);
    const imageId = found.record.id;
    await withLock(this.lockPath, async () => {
      const names = await this.readNames();
      for (const k of Object.keys(names.tags)) if (names.tags[k] === imageId) delete names.tags[k];
      for (const k of Object.keys(names.digests)) if (names.digests[k] === imageId) delete names.digests[k];
      await this.writeNames(names);
      await rm(this.p('images', `${hexOf(imageId)}.json`), { force: true });
    });
  }

  /** Deletes layers, blobs and scratch no image (and no running pull/load) uses; returns the bytes freed. */
  async gc(): Promise<number> {
    await this.init();
    await this.sweep();
    return withLock(this.lockPath, async () => {
      const records = await this.allRecords();
      const keepLayers = new Set<string>();
      const keepBlobs = new Set<string>();
      const keepDiffs = new Set<string>();
      for (const r of records) {
        keepBlobs.add(r.id);
        if (r.manifest) keepBlobs.add(r.manifest.digest);
        for (const b of r.extraBlobs ?? []) keepBlobs.add(b);
        for (const l of r.layers) {
          keepLayers.add(hexOf(l.chainId));
          keepDiffs.add(hexOf(l.diffId));
        }
      }
      for (const f of await readdir(this.p('leases'))) {
        try {
          for (const d of JSON.parse(await readFile(this.p('leases', f), 'utf8')) as string[]) {
            keepLayers.add(hexOf(d));
            keepBlobs.add(d);
            keepDiffs.add(hexOf(d));
          }
        } catch {
          /* a lease being written or removed */
        }
      }
      for (const h of keepDiffs) for (const b of await this.readDistribution(`sha256:${h}`)) keepBlobs.add(b.digest);
      let freed = 0;
      for (const h of await readdir(this.p('layers'))) {
        if (keepLayers.has(h)) continue;
        const dir = this.p('layers', h);
        freed += await diskUsage(dir);
        const aside = this.p('tmp', `gc-${tempName()}`);
        await rename(dir, aside);
        await rm(this.p('l', shortLinkName(`sha256:${h}`)), { force: true });
        await rm(aside, { recursive: true, force: true });
      }
      for (const h of await readdir(this.p('blobs', 'sha256'))) {
        if (keepBlobs.has(`sha256:${h}`)) continue;
        const path = this.p('blobs', 'sha256', h);
        freed += (await stat(path).catch(() => ({ size: 0 }))).size;
        await rm(path, { force: true });
      }
      for (const f of await readdir(this.p('distribution'))) {
        if (!keepDiffs.has(f.replace(/\.json$/, ''))) await rm(this.p('distribution', f), { force: true });
      }
      for (const name of await readdir(this.p('l'))) {
        const target = await readlink(this.p('l', name)).catch(() => undefined);
        if (target !== undefined && !(await this.exists(this.p('l', target)))) await rm(this.p('l', name), { force: true });
      }
      return freed;
    });
  }

  // ---------------------------------------------------------------------------------------------- pull

  async pull(ref: string, opts: PullOptions = {}): Promise<StoredImage> {
    await this.init();
    const r = normalizeRef(ref);
    const emit = (e: Omit<ImageProgress, 'ref'>): void => opts.onProgress?.({ ref: r.familiar, ...e });
    const platform = parsePlatform(opts.platform);
    try {
      return await this.pullInner(r, platform, emit, opts.signal);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      if (e instanceof PullError) throw e;
      if (e instanceof LayerRejectedError) {
        throw new PullError(r.familiar, e.message, { cause: e, ...(e.hint ? { hint: e.hint } : {}) });
      }
      if (e instanceof TsComposeError) throw new PullError(r.familiar, e.message, { cause: e, ...(e.hint ? { hint: e.hint } : {}) });
      throw new PullError(r.familiar, (e as Error).message, { cause: e });
    }
  }

  /** Finds the manifest on the first endpoint that has it (mirrors before Docker Hub). */
  private async fetchTopManifest(r: ImageReference, signal: AbortSignal | undefined): Promise<{ ep: Endpoint; bytes: Buffer; mediaType: string; digest: string }> {
    const eps = endpointsFor(r, this.registry);
    const reference = r.digest ?? r.tag ?? 'latest';
    const failures: { ep: Endpoint; err: RegistryError }[] = [];
    for (const ep of eps) {
      try {
        const m = await this.client.getManifest(ep, r.repository, reference, signal);
        return { ep, ...m };
      } catch (e) {
        if (!(e instanceof RegistryError)) throw e;
        failures.push({ ep, err: e });
      }
    }
    // Report the most telling failure: "not found" / "denied" from any endpoint beats a network error.
    const best = failures.find((f) => f.err.status === 404) ?? failures.find((f) => f.err.status === 401 || f.err.status === 403) ?? failures[failures.length - 1]!;
    const tried = failures.length > 1 ? ` (tried ${failures.map((f) => f.ep.url).join(', ')})` : '';
    const repoFamiliar = familiarName(r.registry, r.repository);
    if (best.err.status === 404) {
      const what = r.digest ?? r.tag ?? 'latest';
      throw new PullError(r.familiar, `manifest for ${repoFamiliar}${r.digest ? '@' : ':'}${what} not found: ${best.err.detail}${tried}`, {
        cause: best.err,
      });
    }
    if (best.err.status === 401 || best.err.status === 403) {
      throw new PullError(r.familiar, `pull access denied for ${repoFamiliar}, repository does not exist or may require 'docker login': ${best.err.message}`, {
        cause: best.err,
      });
    }
    throw new PullError(r.familiar, failures.map((f) => f.err.message).join('; '), {
      cause: best.err,
      hint: best.err.status === 0 ? `is the registry at ${best.ep.url} reachable?` : undefined,
    } as { cause: unknown; hint?: string });
  }

  private async pullInner(r: ImageReference, platform: Platform, emit: (e: Omit<ImageProgress, 'ref'>) => void, signal: AbortSignal | undefined): Promise<StoredImage> {
    emit({ status: `Pulling from ${familiarName(r.registry, r.repository)}` });
    const top = await this.fetchTopManifest(r, signal);
    const { ep } = top;
    const repo = r.repository;
    let manifestBytes = top.bytes;
    let manifestType = top.mediaType;
    let manifestDigest = top.digest;
    const extraBlobs: { digest: string; bytes: Buffer }[] = [];
    if (INDEX_TYPES.includes(top.mediaType)) {
      const index = JSON.parse(top.bytes.toString('utf8')) as ImageIndex;
      const desc = selectManifest(index, platform);
      if (!desc) throw new PullError(r.familiar, `no matching manifest for ${platformString(platform)} in the manifest list entries`);
      const child = await this.client.getManifest(ep, repo, desc.digest, signal);
      if (INDEX_TYPES.includes(child.mediaType)) throw new PullError(r.familiar, `nested image indexes are not supported (${desc.digest})`);
      extraBlobs.push({ digest: top.digest, bytes: top.bytes });
      manifestBytes = child.bytes;
      manifestType = child.mediaType;
      manifestDigest = child.digest;
    }
    if (manifestType === MT.dockerSchema1 || manifestType === MT.dockerSchema1Signed) {
      throw new PullError(r.familiar, 'Docker image manifest schema 1 is not supported; push the image again with a current Docker');
    }
    if (!MANIFEST_TYPES.includes(manifestType)) throw new PullError(r.familiar, `unsupported manifest media type ${manifestType}`);
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
    if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new PullError(r.familiar, `malformed manifest ${manifestDigest}`);
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!isSha256Digest(d.digest)) throw new PullError(r.familiar, `unsupported digest ${JSON.stringify(d.digest)}`);
    }
    const configBytes = await this.client.getBlobBytes(ep, repo, manifest.config.digest, signal);
    const config = ImageStore.parseConfig(configBytes, r.familiar);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new PullError(r.familiar, `the manifest has ${manifest.layers.length} layers but the config ${diffIds.length} diff_ids`);
    }
    const chains = chainIds(diffIds);
    const id = manifest.config.digest;
    const before = await this.resolveRecord(r.canonical);
    const lease = [id, manifestDigest, ...extraBlobs.map((b) => b.digest), ...chains, ...diffIds, ...manifest.layers.map((l) => l.digest)];
    await this.withLease(lease, async () => {
      await mapLimit(manifest.layers, 3, async (desc, i) => {
        const short = shortDigest(desc.digest);
        if (await this.hasLayer(chains[i]!)) {
          emit({ layer: short, status: 'Already exists' });
          return;
        }
        emit({ layer: short, status: 'Pulling fs layer' });
        const installed = await this.installLayer(chains[i]!, diffIds[i]!, chains[i - 1], async (dir) => {
          const res = await this.client.getBlob(ep, repo, desc.digest, signal);
          if (!res.body) throw new PullError(r.familiar, `empty body for blob ${desc.digest}`);
          const blobTmp = this.p('tmp', tempName() + '.blob');
          let last = 0;
          const tap = digestTap(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), {
            file: blobTmp,
            onBytes: (n) => {
              if (n - last >= 512 * 1024 || n === desc.size) {
                last = n;
                emit({ layer: short, status: 'Downloading', current: n, total: desc.size });
              }
            },
          });
          try {
            const u = await unpackLayer(tap.stream, dir, { expectedDiffId: diffIds[i]!, label: `layer ${desc.digest}`, ...(signal ? { signal } : {}) });
            emit({ layer: short, status: 'Verifying Checksum' });
            if (tap.result.digest !== desc.digest) throw new DigestMismatchError(`blob ${desc.digest}`, desc.digest, tap.result.digest ?? '(incomplete)');
            await this.putBlobFile(desc.digest, blobTmp, true);
            await this.addDistribution(diffIds[i]!, { digest: desc.digest, mediaType: desc.mediaType, size: tap.result.bytes });
            emit({ layer: short, status: 'Extracting', current: desc.size, total: desc.size });
            return u;
          } finally {
            await rm(blobTmp, { force: true });
          }
        });
        emit({ layer: short, status: installed ? 'Pull complete' : 'Already exists' });
      });
      await this.putBlobBytes(id, configBytes);
      await this.putBlobBytes(manifestDigest, manifestBytes);
      for (const b of extraBlobs) await this.putBlobBytes(b.digest, b.bytes);
      const metas = await Promise.all(chains.map((c) => this.readLayerMeta(c)));
      const record = this.makeRecord(id, config, metas, {
        manifest: { digest: manifestDigest, mediaType: manifestType },
        ...(extraBlobs.length ? { extraBlobs: extraBlobs.map((b) => b.digest) } : {}),
      });
      const repoDigest = `${r.registry}/${r.repository}@${top.digest}`;
      await this.commitImage(record, r.tag !== undefined && r.digest === undefined ? [r.canonical] : [], [repoDigest]);
    });
    emit({ status: `Digest: ${top.digest}` });
    emit({ status: before?.record.id === id ? `Status: Image is up to date for ${r.familiar}` : `Status: Downloaded newer image for ${r.familiar}` });
    const stored = await this.resolve(id);
    if (!stored) throw new TsComposeError('TSC_INTERNAL', `image ${id} vanished after the pull`);
    return stored;
  }

  // ---------------------------------------------------------------------------------------------- push

  /** A gzip blob holding the DiffID, made from the plain tar blob when the layer only has that. */
  private async gzipBlobFor(diffId: string): Promise<DistributionBlob> {
    const blobs = await this.localBlobsFor(diffId);
    const gz = blobs.find((b) => GZIP_TYPES.includes(b.mediaType));
    if (gz) return { ...gz, mediaType: MT.dockerLayerGzip };
    const plain = blobs.find((b) => TAR_TYPES.includes(b.mediaType) || b.digest === diffId);
    if (!plain) throw new TsComposeError('TSC_IMAGE_NO_BLOB', `layer ${diffId} has no blob to push`);
    const tmp = this.p('tmp', tempName() + '.gz');
    try {
      const gzip = createGzip();
      const feeding = pipeline(createReadStream(this.blobPath(plain.digest)), gzip);
      const tap = digestTap(gzip, { file: tmp });
      for await (const _ of tap.stream) void _;
      await feeding;
      const blob: DistributionBlob = { digest: tap.result.digest!, mediaType: MT.dockerLayerGzip, size: tap.result.bytes };
      await this.putBlobFile(blob.digest, tmp, true);
      await this.addDistribution(diffId, blob);
      return blob;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async manifestForPush(record: ImageRecord): Promise<{ bytes: Buffer; mediaType: string; manifest: ImageManifest }> {
    if (record.manifest && (await this.exists(this.blobPath(record.manifest.digest)))) {
      const bytes = await readFile(this.blobPath(record.manifest.digest));
      const manifest = JSON.parse(bytes.toString('utf8')) as ImageManifest;
      const all = [manifest.config, ...manifest.layers];
      let complete = true;
      for (const d of all) if (!(await this.exists(this.blobPath(d.digest)))) complete = false;
      if (complete) return { bytes, mediaType: record.manifest.mediaType, manifest };
    }
    const configSize = (await stat(this.blobPath(record.id))).size;
    const layers: Descriptor[] = [];
    for (const l of record.layers) {
      const b = await this.gzipBlobFor(l.diffId);
      layers.push({ mediaType: MT.dockerLayerGzip, digest: b.digest, size: b.size });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MT.dockerManifest,
      config: { mediaType: MT.dockerConfig, digest: record.id, size: configSize },
      layers,
    };
    return { bytes: Buffer.from(JSON.stringify(manifest, null, 3)), mediaType: MT.dockerManifest, manifest };
  }

  async push(ref: string, opts: PushOptions = {}): Promise<void> {
    await this.init();
    const r = normalizeRef(ref);
    if (r.digest !== undefined) throw new PushError(r.familiar, 'cannot push a digest reference');
    const found = await this.resolveRecord(r.canonical);
    if (!found) throw new NotFoundError('image', r.familiar, { hint: `An image does not exist locally with the tag: ${familiarName(r.registry, r.repository)}` });
    const emit = (e: Omit<ImageProgress, 'ref'>): void => opts.onProgress?.({ ref: r.familiar, ...e });
    const signal = opts.signal;
    try {
      const ep = endpointsFor(r, this.registry, true)[0]!;
      const repo = r.repository;
      emit({ status: `The push refers to repository [${r.registry}/${r.repository}]` });
      const { bytes, mediaType, manifest } = await this.manifestForPush(found.record);
      const upload = async (d: Descriptor, layer: boolean): Promise<void> => {
        const short = shortDigest(d.digest);
        if (layer) emit({ layer: short, status: 'Preparing' });
        if (await this.client.blobExists(ep, repo, d.digest, signal)) {
          if (layer) emit({ layer: short, status: 'Layer already exists' });
          return;
        }
        if (layer) emit({ layer: short, status: 'Pushing', current: 0, total: d.size });
        const blob = await openAsBlob(this.blobPath(d.digest));
        await this.client.uploadBlob(ep, repo, d.digest, blob, signal);
        if (layer) emit({ layer: short, status: 'Pushed', current: d.size, total: d.size });
      };
      await mapLimit(manifest.layers, 3, (d) => upload(d, true));
      await upload(manifest.config, false);
      const digest = await this.client.putManifest(ep, repo, r.tag ?? 'latest', bytes, mediaType, signal);
      emit({ status: `${r.tag ?? 'latest'}: digest: ${digest} size: ${bytes.length}` });
      await withLock(this.lockPath, async () => {
        const names = await this.readNames();
        names.digests[`${r.registry}/${r.repository}@${digest}`] = found.record.id;
        await this.writeNames(names);
      });
    } catch (e) {
      if ((e as Error).name === 'AbortError' || e instanceof PushError) throw e;
      throw new PushError(r.familiar, (e as Error).message, { cause: e });
    }
  }

  // ---------------------------------------------------------------------------------------------- load / save

  async load(archive: NodeJS.ReadableStream | Readable, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
    await this.init();
    const tmp = this.p('tmp', tempName() + '-load');
    await mkdir(tmp);
    try {
      const { describeArchive, extractArchive } = await import('./archive.js'); // tar-stream only when loading
      const extracted = await extractArchive(archive as AsyncIterable<Buffer>, tmp, opts.signal);
      const images = await describeArchive(extracted, parsePlatform());
      const lines: string[] = [];
      for (const img of images) lines.push(...(await this.loadOne(img, opts.signal)));
      return lines;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  private async loadOne(img: ArchiveImage, signal: AbortSignal | undefined): Promise<string[]> {
    const configBytes = await readFile(img.configPath);
    const id = sha256(configBytes);
    const config = ImageStore.parseConfig(configBytes, `config ${id}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== img.layerPaths.length) {
      throw new TsComposeError('TSC_IMAGE_ARCHIVE', `invalid image archive: image ${id} lists ${img.layerPaths.length} layers but ${diffIds.length} diff_ids`);
    }
    const chains = chainIds(diffIds);
    const tags: string[] = [];
    for (const n of img.names) {
      const ref = normalizeRef(n);
      if (ref.digest === undefined) tags.push(ref.canonical);
    }
    await this.withLease([id, ...chains, ...diffIds], async () => {
      for (let i = 0; i < chains.length; i++) {
        const file = img.layerPaths[i]!;
        const declared = img.manifest?.layers[i];
        await this.installLayer(chains[i]!, diffIds[i]!, chains[i - 1], async (dir) => {
          const tap = digestTap(createReadStream(file));
          const u = await unpackLayer(tap.stream, dir, { expectedDiffId: diffIds[i]!, label: `layer ${diffIds[i]}`, ...(signal ? { signal } : {}) });
          const digest = tap.result.digest!;
          if (declared && declared.digest !== digest) throw new DigestMismatchError(`blob ${declared.digest}`, declared.digest, digest);
          await this.putBlobFile(digest, file, false);
          const mediaType = u.compression === 'gzip' ? (declared?.mediaType ?? MT.dockerLayerGzip) : (declared?.mediaType ?? MT.dockerLayer);
          await this.addDistribution(diffIds[i]!, { digest, mediaType, size: tap.result.bytes });
          return u;
        });
      }
      await this.putBlobBytes(id, configBytes);
      let manifest: ImageRecord['manifest'];
      if (img.manifest) {
        await this.putBlobBytes(img.manifest.digest, img.manifest.bytes);
        manifest = { digest: img.manifest.digest, mediaType: img.manifest.mediaType };
      }
      const metas = await Promise.all(chains.map((c) => this.readLayerMeta(c)));
      await this.commitImage(this.makeRecord(id, config, metas, manifest ? { manifest } : {}), tags, []);
    });
    return tags.length > 0 ? tags.map((t) => `Loaded image: ${normalizeRef(t).familiar}`) : [`Loaded image ID: ${id}`];
  }

  /** A plain-tar stream of a layer (gunzipping its blob when it is only stored compressed). */
  private async layerTar(l: StoredLayer): Promise<{ stream: Readable; size: number }> {
    const meta = await this.readLayerMeta(l.chainId).catch(() => undefined);
    if (!meta) throw new TsComposeError('TSC_IMAGE_NO_BLOB', `layer ${l.chainId} is missing from the store`);
    const blobs = await this.localBlobsFor(l.diffId);
    const plain = blobs.find((b) => b.digest === l.diffId);
    if (plain) return { stream: createReadStream(this.blobPath(plain.digest)), size: meta.tarSize };
    for (const b of blobs) {
      const { head, stream } = await peek(createReadStream(this.blobPath(b.digest)), 6);
      const kind = sniffCompression(head);
      if (kind === 'gzip') {
        const gunzip = createGunzip();
        pipeline(stream, gunzip).catch((e: unknown) => gunzip.destroy(e as Error));
        return { stream: gunzip, size: meta.tarSize };
      }
      if (kind === 'none') return { stream, size: meta.tarSize };
      stream.destroy();
    }
    throw new TsComposeError('TSC_IMAGE_NO_BLOB', `layer ${l.diffId} has no readable blob`);
  }

  /** A docker-archive (Docker 20.10 `docker save` layout) of the images; `docker load` accepts it. */
  async save(refs: string[]): Promise<Readable> {
    await this.init();
    const items: { record: ImageRecord; tags: string[] }[] = [];
    for (const ref of refs) {
      const found = await this.resolveRecord(ref);
      if (!found) throw new NotFoundError('image', ref);
      const tags = found.ref && found.ref.digest === undefined ? [found.ref.familiar] : this.toStored(found.record, found.names).repoTags;
      const existing = items.find((i) => i.record.id === found.record.id);
      if (existing) existing.tags.push(...tags.filter((t) => !existing.tags.includes(t)));
      else items.push({ record: found.record, tags: [...tags] });
    }
    const { default: tarStream } = await import('tar-stream');
    const pack = tarStream.pack();
    const entry = (name: string, body: string | Buffer): Promise<void> =>
      new Promise((resolve, reject) => pack.entry({ name, mode: 0o644, mtime: new Date(0) }, body, (e) => (e ? reject(e) : resolve())));
    const produce = async (): Promise<void> => {
      const written = new Set<string>();
      const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
      const repositories: Record<string, Record<string, string>> = {};
      for (const { record, tags } of items) {
        const configName = `${hexOf(record.id)}.json`;
        if (!written.has(configName)) {
          await entry(configName, await readFile(this.blobPath(record.id)));
          written.add(configName);
        }
        const layerNames: string[] = [];
        let parent: string | undefined;
        for (const l of record.layers) {
          const v1 = hexOf(l.chainId);
          if (!written.has(v1)) {
            await new Promise<void>((res, rej) => pack.entry({ name: v1, type: 'directory', mode: 0o755, mtime: new Date(0) }, (e) => (e ? rej(e) : res())));
            await entry(`${v1}/VERSION`, '1.0');
            await entry(`${v1}/json`, JSON.stringify({ id: v1, ...(parent ? { parent } : {}), created: '1970-01-01T00:00:00Z' }));
            const { stream, size } = await this.layerTar(l);
            await new Promise<void>((res, rej) => {
              const w = pack.entry({ name: `${v1}/layer.tar`, size, mode: 0o644, mtime: new Date(0) }, (e) => (e ? rej(e) : res()));
              pipeline(stream, w).catch(rej);
            });
            written.add(v1);
          }
          layerNames.push(`${v1}/layer.tar`);
          parent = v1;
        }
        manifest.push({ Config: configName, RepoTags: tags.length ? tags : null, Layers: layerNames });
        for (const t of tags) {
          const ref = normalizeRef(t);
          const repo = familiarName(ref.registry, ref.repository);
          (repositories[repo] ??= {})[ref.tag ?? 'latest'] = parent ?? hexOf(record.id);
        }
      }
      await entry('manifest.json', JSON.stringify(manifest));
      if (Object.keys(repositories).length) await entry('repositories', JSON.stringify(repositories));
      pack.finalize();
    };
    produce().catch((e: unknown) => pack.destroy(e as Error));
    return pack as unknown as Readable;
  }
}

/**
 * Image records (images/<id>.json) and the name index (repositories.json: canonical tag and digest references →
 * image id), read and written under the store's lock; resolving a reference, an id or a short id to an image.
 */
import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { isErrno } from '../errors.js';
import { writeJsonAtomic } from '../fs/atomic.js';
import type { LayerMeta } from './content.js';
import { isSha256Digest } from './digest.js';
import { ImageConfigError, ImageConflictError, ImageNotFoundError, InvalidReferenceError } from './errors.js';
import type { StoreLayout } from './layout.js';
import { familiarName, normalizeRef, tryNormalizeRef, type ImageReference } from './reference.js';
import type { OciImageConfig } from './types.js';

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

export interface ImageRecord {
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

export interface Names {
  /** Canonical `registry/repo:tag` → id. */
  tags: Record<string, string>;
  /** Canonical `registry/repo@sha256:…` → id. */
  digests: Record<string, string>;
}

export interface Resolved {
  record: ImageRecord;
  names: Names;
  /** The reference it was found by (not when found by id). */
  ref?: ImageReference;
}

export function makeRecord(id: string, config: OciImageConfig, metas: readonly LayerMeta[], extra: Partial<ImageRecord> = {}): ImageRecord {
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

/** An image config blob, checked for what the store needs (its DiffIDs). */
export function parseConfig(bytes: Buffer, what: string): OciImageConfig {
  let config: OciImageConfig;
  try {
    config = JSON.parse(bytes.toString('utf8')) as OciImageConfig;
  } catch (e) {
    throw new ImageConfigError(what, 'the image config is not JSON', { cause: e });
  }
  if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids) || !config.rootfs.diff_ids.every(isSha256Digest)) {
    throw new ImageConfigError(what, 'the image config has no valid rootfs.diff_ids');
  }
  return config;
}

const RECORD_FILE = /^[a-f0-9]{64}\.json$/;

export class ImageRecords {
  constructor(private readonly layout: StoreLayout) {}

  // Small JSON files read synchronously: fs.promises.readFile's four thread-pool round trips cost more than the read.
  async readNames(): Promise<Names> {
    try {
      const n = JSON.parse(readFileSync(this.layout.path('repositories.json'), 'utf8')) as Partial<Names>;
      return { tags: n.tags ?? {}, digests: n.digests ?? {} };
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return { tags: {}, digests: {} };
      throw e;
    }
  }

  private async writeNames(n: Names): Promise<void> {
    await writeJsonAtomic(this.layout.path('repositories.json'), n);
  }

  /** Changes the names under the lock. */
  private updateNames<T>(fn: (names: Names) => Promise<T> | T): Promise<T> {
    return this.layout.locked(async () => {
      const names = await this.readNames();
      const result = await fn(names);
      await this.writeNames(names);
      return result;
    });
  }

  async readRecord(id: string): Promise<ImageRecord | undefined> {
    try {
      return JSON.parse(readFileSync(this.layout.recordPath(id), 'utf8')) as ImageRecord;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  async allRecords(): Promise<ImageRecord[]> {
    const out: ImageRecord[] = [];
    for (const f of await readdir(this.layout.path('images'))) {
      if (!RECORD_FILE.test(f)) continue;
      const r = await this.readRecord(f.slice(0, 64));
      if (r) out.push(r);
    }
    return out;
  }

  toStored(r: ImageRecord, names: Names): StoredImage {
    const familiarOf = (index: Record<string, string>): string[] =>
      Object.entries(index)
        .filter(([, id]) => id === r.id)
        .map(([ref]) => normalizeRef(ref).familiar)
        .sort();
    return {
      id: r.id,
      repoTags: familiarOf(names.tags),
      repoDigests: familiarOf(names.digests),
      config: r.config,
      layers: r.layers,
      created: r.created,
      size: r.size,
    };
  }

  /** An image by reference, `sha256:<id or prefix>`, or a bare id prefix of 12+ hex digits. */
  async resolve(refOrId: string): Promise<Resolved | undefined> {
    const s = refOrId.trim();
    const names = await this.readNames();
    const m = /^sha256:([a-f0-9]{1,64})$/.exec(s);
    if (m) {
      const rec = await this.byIdPrefix(m[1]!, refOrId);
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
      const rec = await this.byIdPrefix(s, refOrId);
      if (rec) return { record: rec, names };
    }
    return undefined;
  }

  private async byIdPrefix(hex: string, shown: string): Promise<ImageRecord | undefined> {
    if (hex.length === 64) return this.readRecord(hex);
    const matches = (await readdir(this.layout.path('images'))).filter((f) => RECORD_FILE.test(f) && f.startsWith(hex));
    if (matches.length > 1) throw new ImageConflictError(shown, 'ambiguous short id');
    return matches[0] ? this.readRecord(matches[0].slice(0, 64)) : undefined;
  }

  /** Writes the image record and gives it the names (canonical tag and digest references). */
  async commit(record: ImageRecord, tags: readonly string[], digestRefs: readonly string[]): Promise<void> {
    await this.layout.locked(async () => {
      await writeJsonAtomic(this.layout.recordPath(record.id), record);
      const names = await this.readNames();
      for (const t of tags) names.tags[t] = record.id;
      for (const d of digestRefs) names.digests[d] = record.id;
      await this.writeNames(names);
    });
  }

  /** Records that the canonical digest reference `key` (`registry/repo@sha256:…`) names image `id`. */
  async addDigest(key: string, id: string): Promise<void> {
    await this.updateNames((names) => {
      names.digests[key] = id;
    });
  }

  async tag(source: string, target: string): Promise<void> {
    const src = await this.resolve(source);
    if (!src) throw new ImageNotFoundError(source);
    const t = normalizeRef(target);
    if (t.digest !== undefined) throw new InvalidReferenceError(target, 'cannot tag with a digest reference');
    await this.updateNames((names) => {
      names.tags[t.canonical] = src.record.id;
    });
  }

  /** Removes a name; an image left without tags loses its digest names and its record too (`deletedId`). */
  async untag(ref: string): Promise<{ untagged: string[]; deletedId?: string }> {
    const r = normalizeRef(ref);
    return this.updateNames(async (names) => {
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
      if (id === undefined) throw new ImageNotFoundError(ref);
      const result: { untagged: string[]; deletedId?: string } = { untagged };
      if (!Object.values(names.tags).includes(id)) {
        for (const [k, v] of Object.entries(names.digests)) {
          if (v !== id) continue;
          delete names.digests[k];
          untagged.push(normalizeRef(k).familiar);
        }
        await rm(this.layout.recordPath(id), { force: true });
        result.deletedId = id;
      }
      return result;
    });
  }

  /** Removes an image's record and every name of it (its content stays until gc). */
  async remove(refOrId: string): Promise<void> {
    const found = await this.resolve(refOrId);
    if (!found) throw new ImageNotFoundError(refOrId);
    const imageId = found.record.id;
    await this.layout.locked(async () => {
      const names = await this.readNames();
      for (const k of Object.keys(names.tags)) if (names.tags[k] === imageId) delete names.tags[k];
      for (const k of Object.keys(names.digests)) if (names.digests[k] === imageId) delete names.digests[k];
      await this.writeNames(names);
      await rm(this.layout.recordPath(imageId), { force: true });
    });
  }
}

/**
 * Reading image archives (docker-archive as `docker save` writes it up to v24, Docker ≥ 25's OCI layout plus
 * manifest.json, plain OCI image layouts; optionally gzip-compressed) into a scratch directory, and describing
 * the images inside. Loading them into the store and writing a docker-archive are in load-save.ts.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { CodedError } from '../errors.js';
import { hexOf, isSha256Digest } from './digest.js';
import { ArchiveError, UnsupportedCompressionError } from './errors.js';
import { normalizeMemberPath } from './tar-scan.js';
import { peek, sniffCompression } from './streams.js';
import { INDEX_TYPES, MANIFEST_TYPES, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from './types.js';
import { tryNormalizeRef } from './reference.js';

export interface ExtractedArchive {
  dir: string;
  /** The file a member name refers to (after symlinks/hardlinks inside the archive), or undefined. */
  resolve(name: string): string | undefined;
}

/** Extracts the regular files of an archive into `dir` (which must exist); links are resolved, not created. */
export async function extractArchive(
  input: AsyncIterable<Buffer | Uint8Array | string>,
  dir: string,
  signal?: AbortSignal,
): Promise<ExtractedArchive> {
  const { head, stream } = await peek(input, 6);
  const kind = sniffCompression(head);
  if (kind !== 'none' && kind !== 'gzip') throw new UnsupportedCompressionError(kind, 'the image archive');
  const files = new Set<string>();
  const links = new Map<string, string>();
  const extract = tarStream.extract();
  const sink = extract as unknown as NodeJS.WritableStream;
  const opts = signal ? { signal } : {};
  const feeding = kind === 'gzip' ? pipeline(stream, createGunzip(), sink, opts) : pipeline(stream, sink, opts);
  feeding.catch(() => undefined);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      let name: string;
      try {
        name = normalizeMemberPath(h.name);
      } catch (e) {
        throw new ArchiveError((e as Error).message, { cause: e });
      }
      if (h.type === 'file' || h.type === 'contiguous-file') {
        if (name === '') throw new ArchiveError('file entry for the archive root');
        const p = join(dir, name);
        await mkdir(dirname(p), { recursive: true });
        await pipeline(entry, createWriteStream(p, { flags: 'w' }));
        files.add(name);
        links.delete(name);
        continue;
      }
      if ((h.type === 'symlink' || h.type === 'link') && h.linkname) {
        const target = h.type === 'symlink' ? posix.join(posix.dirname(name), h.linkname) : h.linkname;
        if (!h.linkname.startsWith('/')) {
          try {
            links.set(name, normalizeMemberPath(target));
          } catch {
            /* a link leaving the archive: ignore */
          }
        }
      }
      entry.resume();
    }
    await feeding;
  } catch (e) {
    extract.destroy();
    await feeding.catch(() => undefined);
    if (e instanceof CodedError || (e as Error).name === 'AbortError') throw e;
    throw new ArchiveError((e as Error).message, { cause: e });
  }
  return {
    dir,
    resolve(name: string): string | undefined {
      let n: string;
      try {
        n = normalizeMemberPath(name);
      } catch {
        return undefined;
      }
      for (let hop = 0; hop < 16; hop++) {
        if (files.has(n)) return join(dir, n);
        const next = links.get(n);
        if (next === undefined) return undefined;
        n = next;
      }
      return undefined;
    },
  };
}

/** One image found in an archive. */
export interface ArchiveImage {
  configPath: string;
  layerPaths: string[];
  /** Names to give it (as written: `busybox:latest`, `localhost/x:1`). */
  names: string[];
  /** The OCI manifest, when the archive is an OCI layout. */
  manifest?: { bytes: Buffer; digest: string; mediaType: string; layers: Descriptor[] };
}

async function readJson<T>(path: string, what: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    throw new ArchiveError(`cannot read ${what}: ${(e as Error).message}`, { cause: e });
  }
}

function need(archive: ExtractedArchive, name: string, what: string): string {
  const p = archive.resolve(name);
  if (p === undefined) throw new ArchiveError(`${what} ${JSON.stringify(name)} is missing`);
  return p;
}

function blobName(digest: string): string {
  if (!isSha256Digest(digest)) throw new ArchiveError(`unsupported digest ${JSON.stringify(digest)}`);
  return `blobs/sha256/${hexOf(digest)}`;
}

function platformMatches(p: Platform | undefined, want: Platform): boolean {
  if (!p) return false;
  if (p.os !== want.os || p.architecture !== want.architecture) return false;
  if (want.variant === undefined || p.variant === undefined) return true;
  return p.variant === want.variant;
}

/** Lists the images of an extracted archive (docker-archive manifest.json first, else OCI index.json). */
export async function describeArchive(archive: ExtractedArchive, platform: Platform): Promise<ArchiveImage[]> {
  const manifestJson = archive.resolve('manifest.json');
  if (manifestJson !== undefined) {
    const entries = await readJson<{ Config?: string; RepoTags?: string[] | null; Layers?: string[] }[]>(manifestJson, 'manifest.json');
    if (!Array.isArray(entries)) throw new ArchiveError('manifest.json is not an array');
    return entries.map((e) => {
      if (typeof e.Config !== 'string' || !Array.isArray(e.Layers)) throw new ArchiveError('manifest.json entry without Config or Layers');
      return {
        configPath: need(archive, e.Config, 'config'),
        layerPaths: e.Layers.map((l) => need(archive, l, 'layer')),
        names: (e.RepoTags ?? []).filter((t) => typeof t === 'string'),
      };
    });
  }
  const indexJson = archive.resolve('index.json');
  if (indexJson === undefined) throw new ArchiveError('neither manifest.json (docker-archive) nor index.json (OCI layout) found');
  const index = await readJson<ImageIndex>(indexJson, 'index.json');
  const out: ArchiveImage[] = [];
  const visit = async (desc: Descriptor, names: string[], depth: number): Promise<void> => {
    if (depth > 4) throw new ArchiveError('indexes nested too deeply');
    const path = need(archive, blobName(desc.digest), 'blob');
    if (INDEX_TYPES.includes(desc.mediaType)) {
      const nested = await readJson<ImageIndex>(path, `index ${desc.digest}`);
      const manifests = (nested.manifests ?? []).filter((m) => MANIFEST_TYPES.includes(m.mediaType) || INDEX_TYPES.includes(m.mediaType));
      const pick = manifests.find((m) => platformMatches(m.platform, platform)) ?? (manifests.length === 1 ? manifests[0] : undefined);
      if (!pick) throw new ArchiveError(`no manifest for ${platform.os}/${platform.architecture} in index ${desc.digest}`);
      await visit(pick, names, depth + 1);
      return;
    }
    if (!MANIFEST_TYPES.includes(desc.mediaType)) return; // attestations and other artifacts
    const bytes = await readFile(path);
    let manifest: ImageManifest;
    try {
      manifest = JSON.parse(bytes.toString('utf8')) as ImageManifest;
    } catch (e) {
      throw new ArchiveError(`manifest ${desc.digest} is not JSON`, { cause: e });
    }
    out.push({
      configPath: need(archive, blobName(manifest.config.digest), 'config blob'),
      layerPaths: manifest.layers.map((l) => need(archive, blobName(l.digest), 'layer blob')),
      names,
      manifest: { bytes, digest: desc.digest, mediaType: desc.mediaType, layers: manifest.layers },
    });
  };
  for (const desc of index.manifests ?? []) {
    const ann = desc.annotations ?? {};
    const names: string[] = [];
    const full = ann['io.containerd.image.name'];
    const refName = ann['org.opencontainers.image.ref.name'];
    if (full && tryNormalizeRef(full)) names.push(full);
    else if (refName && /[/:]/.test(refName) && tryNormalizeRef(refName)) names.push(refName);
    await visit(desc, names, 0);
  }
  return out;
}

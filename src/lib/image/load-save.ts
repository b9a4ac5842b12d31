/**
 * Archives: load (a `docker save` tarball, Docker ≥ 25's OCI layout plus manifest.json, or an OCI layout; see
 * archive.ts) and save (a docker-archive in Docker 20.10's `docker save` layout, which `docker load` accepts).
 */
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArchiveImage } from './archive.js';
import { chainIds, hexOf, sha256 } from './digest.js';
import { ArchiveError, DigestMismatchError, ImageNotFoundError } from './errors.js';
import { unpackLayer } from './layer.js';
import type { StoreParts } from './parts.js';
import { parsePlatform } from './platform.js';
import { makeRecord, parseConfig, type ImageRecord } from './records.js';
import { familiarName, normalizeRef } from './reference.js';
import { digestTap } from './streams.js';
import { MT } from './types.js';

/** Loads every image of the archive; the `Loaded image: …` / `Loaded image ID: …` lines docker load prints. */
export async function loadArchive(
  parts: StoreParts,
  archive: NodeJS.ReadableStream | Readable,
  opts: { signal?: AbortSignal } = {},
): Promise<string[]> {
  const tmp = parts.layout.scratch('-load');
  await mkdir(tmp);
  try {
    const { describeArchive, extractArchive } = await import('./archive.js'); // tar-stream only when loading
    const extracted = await extractArchive(archive as AsyncIterable<Buffer>, tmp, opts.signal);
    const images = await describeArchive(extracted, parsePlatform());
    const lines: string[] = [];
    for (const img of images) lines.push(...(await loadOne(parts, img, opts.signal)));
    return lines;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function loadOne({ layout, content, records }: StoreParts, img: ArchiveImage, signal: AbortSignal | undefined): Promise<string[]> {
  const configBytes = await readFile(img.configPath);
  const id = sha256(configBytes);
  const config = parseConfig(configBytes, `config ${id}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== img.layerPaths.length)
    throw new ArchiveError(`image ${id} lists ${img.layerPaths.length} layers but ${diffIds.length} diff_ids`);
  const chains = chainIds(diffIds);
  const tags: string[] = [];
  for (const n of img.names) {
    const ref = normalizeRef(n);
    if (ref.digest === undefined) tags.push(ref.canonical);
  }
  await layout.withLease([id, ...chains, ...diffIds], async () => {
    for (let i = 0; i < chains.length; i++) {
      const file = img.layerPaths[i]!;
      const declared = img.manifest?.layers[i];
      await content.installLayer(chains[i]!, diffIds[i]!, chains[i - 1], async (dir) => {
        const tap = digestTap(createReadStream(file));
        const u = await unpackLayer(tap.stream, dir, { expectedDiffId: diffIds[i]!, label: `layer ${diffIds[i]}`, ...(signal ? { signal } : {}) });
        const digest = tap.result.digest!;
        if (declared && declared.digest !== digest) throw new DigestMismatchError(`blob ${declared.digest}`, declared.digest, digest);
        await content.putBlobFile(digest, file, false);
        const mediaType = u.compression === 'gzip' ? (declared?.mediaType ?? MT.dockerLayerGzip) : (declared?.mediaType ?? MT.dockerLayer);
        await content.addDistribution(diffIds[i]!, { digest, mediaType, size: tap.result.bytes });
        return u;
      });
    }
    await content.putBlobBytes(id, configBytes);
    let manifest: ImageRecord['manifest'];
    if (img.manifest) {
      await content.putBlobBytes(img.manifest.digest, img.manifest.bytes);
      manifest = { digest: img.manifest.digest, mediaType: img.manifest.mediaType };
    }
    const metas = await Promise.all(chains.map((c) => content.readLayerMeta(c)));
    await records.commit(makeRecord(id, config, metas, manifest ? { manifest } : {}), tags, []);
  });
  return tags.length > 0 ? tags.map((t) => `Loaded image: ${normalizeRef(t).familiar}`) : [`Loaded image ID: ${id}`];
}

/** A docker-archive of the images (references or ids; ImageNotFoundError for a missing one). */
export async function saveImages({ layout, content, records }: StoreParts, refs: readonly string[]): Promise<Readable> {
  const items: { record: ImageRecord; tags: string[] }[] = [];
  for (const ref of refs) {
    const found = await records.resolve(ref);
    if (!found) throw new ImageNotFoundError(ref);
    const tags = found.ref && found.ref.digest === undefined ? [found.ref.familiar] : records.toStored(found.record, found.names).repoTags;
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
        await entry(configName, await readFile(layout.blobPath(record.id)));
        written.add(configName);
      }
      const layerNames: string[] = [];
      let parent: string | undefined;
      for (const l of record.layers) {
        const v1 = hexOf(l.chainId);
        if (!written.has(v1)) {
          await new Promise<void>((res, rej) =>
            pack.entry({ name: v1, type: 'directory', mode: 0o755, mtime: new Date(0) }, (e) => (e ? rej(e) : res())),
          );
          await entry(`${v1}/VERSION`, '1.0');
          await entry(`${v1}/json`, JSON.stringify({ id: v1, ...(parent ? { parent } : {}), created: '1970-01-01T00:00:00Z' }));
          const { stream, size } = await content.layerTar(l);
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

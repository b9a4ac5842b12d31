/**
 * Pull: the manifest from the first endpoint that has it (mirrors before Docker Hub), the platform's manifest of
 * an index, the config, then the layers (three at a time, each verified while it streams into `tar`), all under
 * a lease so a concurrent gc keeps what is being pulled.
 */
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { CodedError } from '../errors.js';
import { chainIds, isSha256Digest, shortDigest } from './digest.js';
import { DigestMismatchError, ImagePullError, ImageStoreError } from './errors.js';
import { unpackLayer } from './layer.js';
import type { ImageProgress, StoreParts } from './parts.js';
import { parsePlatform, platformString, selectManifest } from './platform.js';
import { makeRecord, parseConfig, type StoredImage } from './records.js';
import { familiarName, normalizeRef, type ImageReference } from './reference.js';
import { RegistryError, endpointsFor, type Endpoint } from './registry.js';
import { digestTap, mapLimit } from './streams.js';
import { INDEX_TYPES, MANIFEST_TYPES, MT, type ImageIndex, type ImageManifest, type Platform } from './types.js';

export interface PullOptions {
  signal?: AbortSignal;
  /** `linux/arm64`, `linux/arm/v7`; default linux/<this machine>. */
  platform?: string;
  onProgress?: (e: ImageProgress) => void;
}

type Emit = (e: Omit<ImageProgress, 'ref'>) => void;

/** Pulls `ref`; every failure but an abort is an ImagePullError (the cause kept, with its hint). */
export async function pullImage(parts: StoreParts, ref: string, opts: PullOptions = {}): Promise<StoredImage> {
  const r = normalizeRef(ref);
  const emit: Emit = (e) => opts.onProgress?.({ ref: r.familiar, ...e });
  const platform = parsePlatform(opts.platform);
  try {
    return await pullInner(parts, r, platform, emit, opts.signal);
  } catch (e) {
    if ((e as Error).name === 'AbortError' || e instanceof ImagePullError) throw e;
    throw new ImagePullError(r.familiar, (e as Error).message, { cause: e, ...(e instanceof CodedError && e.hint ? { hint: e.hint } : {}) });
  }
}

/** Finds the manifest on the first endpoint that has it (mirrors before Docker Hub). */
async function fetchTopManifest(
  { client, registry }: StoreParts,
  r: ImageReference,
  signal: AbortSignal | undefined,
): Promise<{ ep: Endpoint; bytes: Buffer; mediaType: string; digest: string }> {
  const reference = r.digest ?? r.tag ?? 'latest';
  const failures: { ep: Endpoint; err: RegistryError }[] = [];
  for (const ep of endpointsFor(r, registry)) {
    try {
      return { ep, ...(await client.getManifest(ep, r.repository, reference, signal)) };
    } catch (e) {
      if (!(e instanceof RegistryError)) throw e;
      failures.push({ ep, err: e });
    }
  }
  // Report the most telling failure: "not found" / "denied" from any endpoint beats a network error.
  const best =
    failures.find((f) => f.err.status === 404) ??
    failures.find((f) => f.err.status === 401 || f.err.status === 403) ??
    failures[failures.length - 1]!;
  const tried = failures.length > 1 ? ` (tried ${failures.map((f) => f.ep.url).join(', ')})` : '';
  const repoFamiliar = familiarName(r.registry, r.repository);
  if (best.err.status === 404) {
    throw new ImagePullError(r.familiar, `manifest for ${repoFamiliar}${r.digest ? '@' : ':'}${reference} not found: ${best.err.detail}${tried}`, {
      cause: best.err,
    });
  }
  if (best.err.status === 401 || best.err.status === 403) {
    throw new ImagePullError(
      r.familiar,
      `pull access denied for ${repoFamiliar}, repository does not exist or may require 'docker login': ${best.err.message}`,
      {
        cause: best.err,
      },
    );
  }
  throw new ImagePullError(r.familiar, failures.map((f) => f.err.message).join('; '), {
    cause: best.err,
    hint: best.err.status === 0 ? `is the registry at ${best.ep.url} reachable?` : undefined,
  });
}

async function pullInner(
  parts: StoreParts,
  r: ImageReference,
  platform: Platform,
  emit: Emit,
  signal: AbortSignal | undefined,
): Promise<StoredImage> {
  const { layout, content, records, client } = parts;
  emit({ status: `Pulling from ${familiarName(r.registry, r.repository)}` });
  const top = await fetchTopManifest(parts, r, signal);
  const { ep } = top;
  const repo = r.repository;
  let manifestBytes = top.bytes;
  let manifestType = top.mediaType;
  let manifestDigest = top.digest;
  const extraBlobs: { digest: string; bytes: Buffer }[] = [];
  if (INDEX_TYPES.includes(top.mediaType)) {
    const index = JSON.parse(top.bytes.toString('utf8')) as ImageIndex;
    const desc = selectManifest(index, platform);
    if (!desc) throw new ImagePullError(r.familiar, `no matching manifest for ${platformString(platform)} in the manifest list entries`);
    const child = await client.getManifest(ep, repo, desc.digest, signal);
    if (INDEX_TYPES.includes(child.mediaType)) throw new ImagePullError(r.familiar, `nested image indexes are not supported (${desc.digest})`);
    extraBlobs.push({ digest: top.digest, bytes: top.bytes });
    manifestBytes = child.bytes;
    manifestType = child.mediaType;
    manifestDigest = child.digest;
  }
  if (manifestType === MT.dockerSchema1 || manifestType === MT.dockerSchema1Signed) {
    throw new ImagePullError(r.familiar, 'Docker image manifest schema 1 is not supported; push the image again with a current Docker');
  }
  if (!MANIFEST_TYPES.includes(manifestType)) throw new ImagePullError(r.familiar, `unsupported manifest media type ${manifestType}`);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new ImagePullError(r.familiar, `malformed manifest ${manifestDigest}`);
  for (const d of [manifest.config, ...manifest.layers]) {
    if (!isSha256Digest(d.digest)) throw new ImagePullError(r.familiar, `unsupported digest ${JSON.stringify(d.digest)}`);
  }
  const configBytes = await client.getBlobBytes(ep, repo, manifest.config.digest, signal);
  const config = parseConfig(configBytes, r.familiar);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new ImagePullError(r.familiar, `the manifest has ${manifest.layers.length} layers but the config ${diffIds.length} diff_ids`);
  }
  const chains = chainIds(diffIds);
  const id = manifest.config.digest;
  const before = await records.resolve(r.canonical);
  const lease = [id, manifestDigest, ...extraBlobs.map((b) => b.digest), ...chains, ...diffIds, ...manifest.layers.map((l) => l.digest)];
  await layout.withLease(lease, async () => {
    await mapLimit(manifest.layers, 3, async (desc, i) => {
      const short = shortDigest(desc.digest);
      if (await content.layerInPlace(chains[i]!)) {
        emit({ layer: short, status: 'Already exists' });
        return;
      }
      emit({ layer: short, status: 'Pulling fs layer' });
      const installed = await content.installLayer(chains[i]!, diffIds[i]!, chains[i - 1], async (dir) => {
        const res = await client.getBlob(ep, repo, desc.digest, signal);
        if (!res.body) throw new ImagePullError(r.familiar, `empty body for blob ${desc.digest}`);
        const blobTmp = layout.scratch('.blob');
        let last = 0;
        const tap = digestTap(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), {
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
          if (tap.result.digest !== desc.digest)
            throw new DigestMismatchError(`blob ${desc.digest}`, desc.digest, tap.result.digest ?? '(incomplete)');
          await content.putBlobFile(desc.digest, blobTmp, true);
          await content.addDistribution(diffIds[i]!, { digest: desc.digest, mediaType: desc.mediaType, size: tap.result.bytes });
          emit({ layer: short, status: 'Extracting', current: desc.size, total: desc.size });
          return u;
        } finally {
          await rm(blobTmp, { force: true });
        }
      });
      emit({ layer: short, status: installed ? 'Pull complete' : 'Already exists' });
    });
    await content.putBlobBytes(id, configBytes);
    await content.putBlobBytes(manifestDigest, manifestBytes);
    for (const b of extraBlobs) await content.putBlobBytes(b.digest, b.bytes);
    const metas = await Promise.all(chains.map((c) => content.readLayerMeta(c)));
    const record = makeRecord(id, config, metas, {
      manifest: { digest: manifestDigest, mediaType: manifestType },
      ...(extraBlobs.length ? { extraBlobs: extraBlobs.map((b) => b.digest) } : {}),
    });
    const repoDigest = `${r.registry}/${r.repository}@${top.digest}`;
    await records.commit(record, r.tag !== undefined && r.digest === undefined ? [r.canonical] : [], [repoDigest]);
  });
  emit({ status: `Digest: ${top.digest}` });
  emit({ status: before?.record.id === id ? `Status: Image is up to date for ${r.familiar}` : `Status: Downloaded newer image for ${r.familiar}` });
  const stored = await records.resolve(id);
  if (!stored) throw new ImageStoreError('TSC_INTERNAL', `image ${id} vanished after the pull`);
  return records.toStored(stored.record, stored.names);
}

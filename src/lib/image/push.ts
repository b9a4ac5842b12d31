/**
 * Push: the manifest the image was pulled or loaded with when all its blobs are here, else a Docker schema2
 * manifest over gzip blobs (made from plain tar blobs where needed); blobs the registry lacks are uploaded
 * three at a time, then the manifest is put and its digest recorded as a name of the image.
 */
import { createReadStream, openAsBlob } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { DistributionBlob } from './content.js';
import { shortDigest } from './digest.js';
import { ImageNotFoundError, ImagePushError, ImageStoreError } from './errors.js';
import type { ImageProgress, StoreParts } from './parts.js';
import type { ImageRecord } from './records.js';
import { familiarName, normalizeRef } from './reference.js';
import { endpointsFor } from './registry.js';
import { digestTap, mapLimit } from './streams.js';
import { MT, type Descriptor, type ImageManifest } from './types.js';

export interface PushOptions {
  signal?: AbortSignal;
  onProgress?: (e: ImageProgress) => void;
}

const GZIP_TYPES: readonly string[] = [MT.dockerLayerGzip, MT.ociLayerGzip];
const TAR_TYPES: readonly string[] = [MT.dockerLayer, MT.ociLayer];

/** A gzip blob holding the DiffID, made from the plain tar blob when the layer only has that. */
async function gzipBlobFor({ layout, content }: StoreParts, diffId: string, chainId?: string): Promise<DistributionBlob> {
  const blobs = await content.localBlobsFor(diffId);
  const gz = blobs.find((b) => GZIP_TYPES.includes(b.mediaType));
  if (gz) return { ...gz, mediaType: MT.dockerLayerGzip };
  const plain = blobs.find((b) => TAR_TYPES.includes(b.mediaType) || b.digest === diffId);
  if (!plain && (blobs.length > 0 || !chainId)) throw new ImageStoreError('TSC_IMAGE_NO_BLOB', `layer ${diffId} has no blob to push`);
  const tmp = layout.scratch('.gz');
  try {
    const gzip = createGzip();
    // a layer a build adopted has no blob yet: its tar comes from its directory (content.ts layerTar, verified)
    const source = plain ? createReadStream(layout.blobPath(plain.digest)) : (await content.layerTar({ chainId: chainId!, diffId })).stream;
    const feeding = pipeline(source, gzip);
    const tap = digestTap(gzip, { file: tmp });
    for await (const _ of tap.stream) void _;
    await feeding;
    const blob: DistributionBlob = { digest: tap.result.digest!, mediaType: MT.dockerLayerGzip, size: tap.result.bytes };
    await content.putBlobFile(blob.digest, tmp, true);
    await content.addDistribution(diffId, blob);
    return blob;
  } finally {
    await rm(tmp, { force: true });
  }
}

async function manifestForPush(parts: StoreParts, record: ImageRecord): Promise<{ bytes: Buffer; mediaType: string; manifest: ImageManifest }> {
  const { layout } = parts;
  if (record.manifest && (await layout.exists(layout.blobPath(record.manifest.digest)))) {
    const bytes = await readFile(layout.blobPath(record.manifest.digest));
    const manifest = JSON.parse(bytes.toString('utf8')) as ImageManifest;
    let complete = true;
    for (const d of [manifest.config, ...manifest.layers]) if (!(await layout.exists(layout.blobPath(d.digest)))) complete = false;
    if (complete) return { bytes, mediaType: record.manifest.mediaType, manifest };
  }
  const configSize = (await stat(layout.blobPath(record.id))).size;
  const layers: Descriptor[] = [];
  for (const l of record.layers) {
    const b = await gzipBlobFor(parts, l.diffId, l.chainId);
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

/** Pushes the tag `ref`: ImageNotFoundError when there is no such tag, ImagePushError when the push fails. */
export async function pushImage(parts: StoreParts, ref: string, opts: PushOptions = {}): Promise<void> {
  const { layout, records, client, registry } = parts;
  const r = normalizeRef(ref);
  if (r.digest !== undefined) throw new ImagePushError(r.familiar, 'cannot push a digest reference');
  const found = await records.resolve(r.canonical);
  if (!found)
    throw new ImageNotFoundError(r.familiar, { hint: `An image does not exist locally with the tag: ${familiarName(r.registry, r.repository)}` });
  const emit = (e: Omit<ImageProgress, 'ref'>): void => opts.onProgress?.({ ref: r.familiar, ...e });
  const signal = opts.signal;
  try {
    const ep = endpointsFor(r, registry, true)[0]!;
    const repo = r.repository;
    emit({ status: `The push refers to repository [${r.registry}/${r.repository}]` });
    const { bytes, mediaType, manifest } = await manifestForPush(parts, found.record);
    const upload = async (d: Descriptor, layer: boolean): Promise<void> => {
      const short = shortDigest(d.digest);
      if (layer) emit({ layer: short, status: 'Preparing' });
      if (await client.blobExists(ep, repo, d.digest, signal)) {
        if (layer) emit({ layer: short, status: 'Layer already exists' });
        return;
      }
      if (layer) emit({ layer: short, status: 'Pushing', current: 0, total: d.size });
      const blob = await openAsBlob(layout.blobPath(d.digest));
      await client.uploadBlob(ep, repo, d.digest, blob, signal);
      if (layer) emit({ layer: short, status: 'Pushed', current: d.size, total: d.size });
    };
    await mapLimit(manifest.layers, 3, (d) => upload(d, true));
    await upload(manifest.config, false);
    const digest = await client.putManifest(ep, repo, r.tag ?? 'latest', bytes, mediaType, signal);
    emit({ status: `${r.tag ?? 'latest'}: digest: ${digest} size: ${bytes.length}` });
    await records.addDigest(`${r.registry}/${r.repository}@${digest}`, found.record.id);
  } catch (e) {
    if ((e as Error).name === 'AbortError' || e instanceof ImagePushError) throw e;
    throw new ImagePushError(r.familiar, (e as Error).message, { cause: e });
  }
}

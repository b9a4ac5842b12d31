/**
 * Builders for test layers and images (used by the unit tests; no external images needed): tar files made with
 * tar-stream, OCI configs with the right diff_ids, docker-archive and OCI-layout tarballs.
 */
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { chainIds, sha256 } from '../digest.js';
import { MT, type ImageManifest, type OciImageConfig } from '../types.js';

export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  pax?: Record<string, string>;
}

export async function makeTar(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = e.content === undefined ? Buffer.alloc(0) : Buffer.from(e.content);
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date(1_700_000_000_000),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.pax !== undefined ? { pax: e.pax } : {}),
      ...(type === 'file' ? { size: body.length } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (type === 'file') pack.entry(header, body, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function gz(b: Buffer): Buffer {
  return gzipSync(b);
}

export interface FixtureImage {
  config: OciImageConfig;
  configBytes: Buffer;
  configDigest: string;
  /** Uncompressed layer tars, bottom → top. */
  tars: Buffer[];
  /** Gzipped layer blobs. */
  blobs: Buffer[];
  diffIds: string[];
  chainIds: string[];
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDigest: string;
}

/** An image of the given layers (default: one file per layer), Docker schema2 or OCI media types. */
export async function makeImage(opts: { layers?: TarEntry[][]; arch?: string; oci?: boolean; cmd?: string[] } = {}): Promise<FixtureImage> {
  const layers = opts.layers ?? [[{ name: 'hello.txt', content: 'hello\n' }]];
  const tars = await Promise.all(layers.map((l) => makeTar(l)));
  const blobs = tars.map(gz);
  const diffIds = tars.map((t) => sha256(t));
  const config: OciImageConfig = {
    architecture: opts.arch ?? 'amd64',
    os: 'linux',
    created: '2024-01-02T03:04:05Z',
    config: { Env: ['PATH=/usr/bin:/bin'], Cmd: opts.cmd ?? ['/bin/sh'], WorkingDir: '/', Labels: { fixture: 'yes' } },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created: '2024-01-02T03:04:05Z', created_by: 'fixture' })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = sha256(configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: opts.oci ? MT.ociManifest : MT.dockerManifest,
    config: { mediaType: opts.oci ? MT.ociConfig : MT.dockerConfig, digest: configDigest, size: configBytes.length },
    layers: blobs.map((b) => ({ mediaType: opts.oci ? MT.ociLayerGzip : MT.dockerLayerGzip, digest: sha256(b), size: b.length })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 3));
  return {
    config,
    configBytes,
    configDigest,
    tars,
    blobs,
    diffIds,
    chainIds: chainIds(diffIds),
    manifest,
    manifestBytes,
    manifestDigest: sha256(manifestBytes),
  };
}

/** A tarball of the given files (name → bytes), for archives. */
export async function makeArchive(files: Record<string, Buffer | string>, symlinks: Record<string, string> = {}): Promise<Buffer> {
  const entries: TarEntry[] = Object.entries(files).map(([name, content]) => ({ name, content }));
  for (const [name, linkname] of Object.entries(symlinks)) entries.push({ name, type: 'symlink', linkname });
  return makeTar(entries);
}

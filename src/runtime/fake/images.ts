/**
 * The fake's images: pull (from the optional `registry` option), inspect, remove, list, build (fails on `RUN false`),
 * push, tag, and the image tools (load, save, prune, details) working on `docker save` archives.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import { BuildError, ConflictError, NotFoundError, PullError } from '../errors.js';
import {
  matchesLabels,
  type BuildProgress,
  type BuildSpec,
  type ImageDetails,
  type ImageInfo,
  type ImageSummary,
  type ImportOptions,
  type ImportResult,
  type Labels,
  type ListOptions,
  type LoadResult,
  type PruneResult,
  type PullProgress,
  type PushProgress,
} from '../runtime.js';
import { EPOCH, type FakeState } from './state.js';

export function inspectImage(s: FakeState, ref: string): ImageInfo {
  const i = s.images.get(ref) ?? [...s.images.values()].find((x) => x.id === ref) ?? s.imageByRef(ref);
  if (!i) throw new NotFoundError('image', ref);
  return i;
}

export function pullImage(s: FakeState, ref: string, options?: { onProgress?: ((event: PullProgress) => void) | undefined }): ImageInfo {
  const id = s.registry ? s.registry[ref] : (s.images.get(ref)?.id ?? s.nextId('i'));
  if (id === undefined) throw new PullError(ref, 'manifest unknown');
  options?.onProgress?.({ ref, status: 'Pulling from library' });
  options?.onProgress?.({ ref, layer: id.slice(0, 12), status: 'Pull complete', current: 1, total: 1 });
  s.setImage(ref, id);
  return s.images.get(ref)!;
}

export function removeImage(s: FakeState, ref: string, options?: { force?: boolean | undefined }): void {
  const i = s.images.get(ref);
  if (!i) {
    const id = s.resolveImageId(ref);
    if (id === undefined) throw new NotFoundError('image', ref);
    const used = [...s.containers.values()].some((c) => c.imageId === id);
    if (s.images.has(`${ref}:latest`)) {
      // a name without its tag
      if (!options?.force && used) throw new ConflictError('image', ref, 'image is being used by a container');
      s.images.delete(`${ref}:latest`);
      return;
    }
    // an image id: every name of the image goes, as in Docker
    const refs = s.refsOf(id);
    const repos = new Set(refs.map((r) => r.replace(/:[^/:]*$/, '')));
    if (repos.size > 1 && !options?.force)
      throw new ConflictError('image', ref, 'unable to delete (must be forced) - image is referenced in multiple repositories');
    if (!options?.force && used) throw new ConflictError('image', ref, 'image is being used by a container');
    for (const r of refs) s.images.delete(r);
    return;
  }
  if (!options?.force && [...s.containers.values()].some((c) => c.imageId === i.id))
    throw new ConflictError('image', ref, 'image is being used by a container');
  s.images.delete(ref);
}

export function listImages(s: FakeState, options: ListOptions): ImageSummary[] {
  const byId = new Map<string, ImageSummary>();
  for (const i of s.images.values()) {
    const labels = s.imageLabels.get(i.id) ?? {};
    if (!matchesLabels(labels, options.labels)) continue;
    const prev = byId.get(i.id);
    byId.set(i.id, {
      id: i.id,
      repoTags: [...(prev?.repoTags ?? []), ...i.repoTags],
      repoDigests: [...new Set([...(prev?.repoDigests ?? []), ...i.repoDigests])],
      labels: { ...labels },
      created: EPOCH,
      sizeBytes: 1024,
    });
  }
  return [...byId.values()];
}

export function buildImage(s: FakeState, spec: BuildSpec, options?: { onProgress?: ((event: BuildProgress) => void) | undefined }): { id: string } {
  const ref = spec.tags[0] ?? spec.context;
  options?.onProgress?.({ text: `Step 1/1 : building ${ref}` });
  if (spec.dockerfileInline !== undefined && /^\s*RUN\s+false\s*$/im.test(spec.dockerfileInline)) {
    throw new BuildError(ref, "The command '/bin/sh -c false' returned a non-zero code: 1");
  }
  const id = 'sha256:' + s.nextId('b');
  for (const tag of spec.tags) s.setImage(tag, id);
  s.imageLabels.set(id, { ...(spec.labels ?? {}) });
  options?.onProgress?.({ text: `Successfully built ${id.slice(7, 19)}` });
  return { id };
}

export function pushImage(s: FakeState, ref: string, options?: { onProgress?: ((event: PushProgress) => void) | undefined }): void {
  const i = s.images.get(ref);
  if (!i) throw new NotFoundError('image', ref);
  options?.onProgress?.({ ref, layer: i.id.replace(/^sha256:/, '').slice(0, 12), status: 'Pushed' });
  s.pushed.push(ref);
}

export function tagImage(s: FakeState, source: string, target: string): void {
  const i = s.images.get(source) ?? [...s.images.values()].find((x) => x.id === source) ?? s.imageByRef(source);
  if (!i) throw new NotFoundError('image', source);
  s.setImage(target, i.id);
}

/**
 * Reads a docker-archive (or Docker ≥ 25's OCI layout with manifest.json; gzip-compressed or not): each
 * manifest entry becomes an image whose id comes from its config file name, tagged with its RepoTags.
 */
export async function loadImage(s: FakeState, archive: Readable): Promise<LoadResult> {
  const parts: Buffer[] = [];
  for await (const c of archive) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  let data = Buffer.concat(parts);
  if (data[0] === 0x1f && data[1] === 0x8b) data = (await import('node:zlib')).gunzipSync(data);
  const files = new Map<string, Buffer>();
  try {
    const { extract } = await import('tar-stream');
    const ex = extract();
    Readable.from([data]).pipe(ex);
    for await (const entry of ex) {
      const body: Buffer[] = [];
      for await (const c of entry) body.push(Buffer.from(c as Uint8Array));
      files.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(body));
    }
  } catch (e) {
    throw new TsComposeError('TSC_IMAGE_LOAD', `loading images: not a tar archive (${(e as Error).message})`, { cause: e });
  }
  const manifestFile = files.get('manifest.json');
  if (!manifestFile) throw new TsComposeError('TSC_IMAGE_LOAD', 'loading images: no manifest.json in the archive (not a `docker save` archive)');
  let manifest: { Config?: unknown; RepoTags?: unknown }[];
  try {
    manifest = JSON.parse(manifestFile.toString('utf8')) as typeof manifest;
    if (!Array.isArray(manifest)) throw new Error('not a JSON array');
  } catch (e) {
    throw new TsComposeError('TSC_IMAGE_LOAD', `loading images: invalid manifest.json: ${(e as Error).message}`, { cause: e });
  }
  const loaded: string[] = [];
  for (const m of manifest) {
    if (typeof m.Config !== 'string') throw new TsComposeError('TSC_IMAGE_LOAD', 'loading images: manifest.json entry without Config');
    const name = m.Config.replace(/^blobs\/sha256\//, '').replace(/\.json$/, '');
    const id = s.resolveImageId(name) ?? (/^[0-9a-f]{64}$/.test(name) ? `sha256:${name}` : name);
    let labels: Labels = {};
    try {
      const config = JSON.parse(files.get(m.Config)?.toString('utf8') ?? '{}') as { config?: { Labels?: Labels | null } };
      labels = config.config?.Labels ?? {};
    } catch {
      // a config we cannot read: no labels
    }
    if (!s.imageLabels.has(id)) s.imageLabels.set(id, { ...labels });
    const tags = Array.isArray(m.RepoTags) ? m.RepoTags.filter((t): t is string => typeof t === 'string') : [];
    for (const tag of tags) {
      s.retag(tag, id);
      loaded.push(`Loaded image: ${tag}`);
    }
    if (tags.length === 0) {
      if (s.refsOf(id).length === 0) s.images.set(id, { id, repoTags: [], repoDigests: [] });
      loaded.push(`Loaded image ID: ${id}`);
    }
    s.emitEvent('image', 'load', id, { name: tags[0] ?? id });
  }
  return { loaded };
}

/**
 * A minimal docker-archive: `manifest.json` (Config `<id>.json`, the refs given as RepoTags, no layers),
 * `repositories` and one config file per image.
 */
export async function saveImage(s: FakeState, refs: readonly string[]): Promise<Readable> {
  const byId = new Map<string, string[]>();
  for (const ref of refs) {
    const id = s.resolveImageId(ref);
    if (id === undefined) throw new NotFoundError('image', ref);
    const tags = byId.get(id) ?? [];
    const key = s.images.has(ref) ? ref : `${ref}:latest`;
    const tag = s.images.get(key)?.id === id && s.images.get(key)!.repoTags.length > 0 ? key : undefined;
    if (tag !== undefined && !tags.includes(tag)) tags.push(tag);
    byId.set(id, tags);
  }
  const { pack } = await import('tar-stream');
  const p = pack();
  const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const mtime = new Date(EPOCH);
  for (const [id, tags] of byId) {
    const bare = id.replace(/^sha256:/, '');
    const config = {
      architecture: 'amd64',
      os: 'linux',
      created: new Date(EPOCH).toISOString(),
      config: { Labels: { ...(s.imageLabels.get(id) ?? {}) } },
      rootfs: { type: 'layers', diff_ids: [] },
    };
    p.entry({ name: `${bare}.json`, mtime }, JSON.stringify(config));
    manifest.push({ Config: `${bare}.json`, RepoTags: tags.length > 0 ? tags : null, Layers: [] });
    for (const t of tags) {
      const colon = t.lastIndexOf(':');
      const [repo, tag] = colon > t.lastIndexOf('/') ? [t.slice(0, colon), t.slice(colon + 1)] : [t, 'latest'];
      (repositories[repo] ??= {})[tag] = bare;
    }
  }
  p.entry({ name: 'manifest.json', mtime }, JSON.stringify(manifest));
  p.entry({ name: 'repositories', mtime }, JSON.stringify(repositories));
  p.finalize();
  return Readable.from(p as unknown as AsyncIterable<Buffer>);
}

/** Dangling (untagged) images no container uses; with `all`, every image no container uses. 1024 bytes each. */
export function pruneImages(s: FakeState, all: boolean): PruneResult {
  const used = new Set([...s.containers.values()].map((c) => c.imageId));
  const deleted: string[] = [];
  let reclaimedBytes = 0;
  for (const id of [...new Set([...s.images.values()].map((i) => i.id))]) {
    if (used.has(id)) continue;
    const refs = s.refsOf(id);
    const dangling = refs.every((r) => s.images.get(r)!.repoTags.length === 0);
    if (!dangling && !all) continue;
    for (const r of refs) {
      if (s.images.get(r)!.repoTags.length > 0) deleted.push(r);
      s.images.delete(r);
    }
    deleted.push(id);
    s.imageLabels.delete(id);
    reclaimedBytes += 1024;
    s.emitEvent('image', 'delete', id, { name: id });
  }
  return { deleted, reclaimedBytes };
}

export function inspectImageDetails(s: FakeState, ref: string): ImageDetails {
  const id = s.resolveImageId(ref);
  if (id === undefined) throw new NotFoundError('image', ref);
  const infos = s.refsOf(id).map((r) => s.images.get(r)!);
  return {
    id,
    repoTags: infos.flatMap((i) => i.repoTags),
    repoDigests: [...new Set(infos.flatMap((i) => i.repoDigests))],
    created: new Date(EPOCH).toISOString(),
    architecture: 'amd64',
    os: 'linux',
    sizeBytes: 1024,
    config: { user: '', env: [], workingDir: '', exposedPorts: [], volumes: [], labels: { ...(s.imageLabels.get(id) ?? {}) } },
    layers: [],
  };
}

/**
 * `docker import`, simulated: the tarball is read whole and must start with a tar header (NotATarError
 * otherwise); the id is the sha256 of its bytes, the changes and the message; the image gets the changes' labels
 * and the tag (`:latest` by default); an `import` event is emitted.
 */
export async function importImage(s: FakeState, tarball: Readable, options: ImportOptions = {}): Promise<ImportResult> {
  const { NotATarError, isTarHeader, parseChanges } = await import('../../lib/image/import.js');
  const config = parseChanges(options.changes ?? []);
  const parts: Buffer[] = [];
  for await (const c of tarball) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  let data = Buffer.concat(parts);
  if (data[0] === 0x1f && data[1] === 0x8b) data = (await import('node:zlib')).gunzipSync(data);
  if (!isTarHeader(data.subarray(0, 512))) throw new NotATarError(options.source ?? '-', 'no valid tar header at its start');
  const id = `sha256:${createHash('sha256')
    .update(data)
    .update(JSON.stringify([options.changes ?? [], options.message ?? '']))
    .digest('hex')}`;
  s.imageLabels.set(id, { ...(config.Labels ?? {}) });
  if (options.tag !== undefined) {
    const tag = /:[^/:]*$/.test(options.tag) ? options.tag : `${options.tag}:latest`;
    s.retag(tag, id);
  } else if (s.refsOf(id).length === 0) s.images.set(id, { id, repoTags: [], repoDigests: [] });
  s.emitEvent('image', 'import', id, { name: options.tag ?? id });
  return { id };
}

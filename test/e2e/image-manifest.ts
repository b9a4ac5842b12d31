/**
 * Reads an image archive (`docker save` / `tscompose image save`: manifest.json naming a config and layer tars, in
 * Docker 20.10's layout or Docker ≥ 25's OCI one) into what two builds of the same Dockerfile must agree on: the
 * filesystem the layers make when applied in order (OCI image-spec layer semantics: `.wh.<name>` deletes a path
 * and everything under it, `.wh..wh..opq` hides what lower layers have under its directory, a non-directory
 * replaces a directory and its contents) as a sorted manifest (path, type, mode, uid, gid, link target, sha256 of
 * the content, hard-link group), and the image config's fields that a build sets.
 *
 * Modification times are not kept. Hard links are resolved to their target's entry; paths that share an inode in
 * the final filesystem carry `hardlinkGroup` (the least of their paths), so the grouping compares independently of
 * which path a tar happened to store first.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';

export type EntryType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';

export interface FsEntry {
  readonly path: string;
  readonly type: EntryType;
  /** Permission bits with setuid/setgid/sticky (07777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly link?: string;
  readonly sha256?: string;
  readonly size?: number;
  readonly device?: string;
  readonly hardlinkGroup?: string;
  /** A directory no layer lists, made by the extractor (0755 root:root) because a path under it exists. */
  readonly implicit?: true;
}

/**
 * The config fields a Dockerfile sets. `null`, `""` and absent are the same value to Docker (Go zero values):
 * BuildKit omits empty strings (omitempty), the classic builder and the native one keep the base image's `""`.
 */
export const CONFIG_FIELDS = [
  'Env',
  'Cmd',
  'Entrypoint',
  'WorkingDir',
  'User',
  'ExposedPorts',
  'Volumes',
  'Labels',
  'Healthcheck',
  'StopSignal',
  'OnBuild',
  'Shell',
] as const;
export type ConfigField = (typeof CONFIG_FIELDS)[number];
export type ImageConfigFields = Partial<Record<ConfigField, unknown>>;

export interface ImageSummary {
  readonly repoTags: string[];
  readonly config: ImageConfigFields;
  readonly fs: FsEntry[];
  readonly layers: number;
}

interface TarItem {
  readonly header: tarStream.Header;
  readonly body: Buffer;
}

/** Every entry of a tar (whole bodies in memory: the images compared here are a few MB). */
export async function readTar(data: Buffer): Promise<TarItem[]> {
  const extract = tarStream.extract();
  const items: TarItem[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      items.push({ header: entry.header, body: Buffer.concat(chunks) });
    }
  })();
  extract.end(data);
  await done;
  return items;
}

function decompress(data: Buffer, name: string): Buffer {
  if (data[0] === 0x1f && data[1] === 0x8b) return gunzipSync(data);
  if (data.length >= 4 && data.readUInt32LE(0) === 0xfd2fb528) throw new Error(`${name}: zstd layers are not read by this helper`);
  return data;
}

const clean = (p: string): string => posix.normalize(`/${p}`).replace(/\/+$/, '') || '/';

interface Node {
  entry: Omit<FsEntry, 'path' | 'hardlinkGroup'>;
  inode: number;
}

/** The filesystem of layers applied in order. */
export async function applyLayers(layers: Buffer[]): Promise<FsEntry[]> {
  const state = new Map<string, Node>();
  let inodes = 0;
  const removeTree = (p: string, keepSelf = false): void => {
    if (!keepSelf) state.delete(p);
    const prefix = p === '/' ? '/' : `${p}/`;
    for (const k of [...state.keys()]) if (k.startsWith(prefix)) state.delete(k);
  };
  const ensureParents = (p: string): void => {
    for (let d = posix.dirname(p); d !== '/' && !state.has(d); d = posix.dirname(d)) {
      state.set(d, { entry: { type: 'dir', mode: 0o755, uid: 0, gid: 0, implicit: true }, inode: ++inodes });
    }
  };
  for (const [i, layer] of layers.entries()) {
    const items = await readTar(decompress(layer, `layer ${i}`));
    // Whiteouts apply to the lower layers only, so before this layer's own entries.
    for (const { header } of items) {
      const p = clean(header.name);
      const base = posix.basename(p);
      if (base === '.wh..wh..opq') removeTree(posix.dirname(p), true);
      else if (base.startsWith('.wh.')) removeTree(posix.join(posix.dirname(p), base.slice(4)));
    }
    for (const { header, body } of items) {
      const p = clean(header.name);
      if (p === '/' || posix.basename(p).startsWith('.wh.')) continue;
      const existing = state.get(p);
      if (header.type === 'link') {
        const target = state.get(clean(header.linkname ?? ''));
        if (!target) throw new Error(`layer ${i}: hard link ${p} to missing ${header.linkname}`);
        if (existing?.entry.type === 'dir') removeTree(p);
        ensureParents(p);
        state.set(p, { entry: target.entry, inode: target.inode });
        continue;
      }
      const type = entryType(header, `layer ${i}: ${p}`);
      if (existing && !(existing.entry.type === 'dir' && type === 'dir')) removeTree(p);
      ensureParents(p);
      const meta = { type, mode: (header.mode ?? 0) & 0o7777, uid: header.uid ?? 0, gid: header.gid ?? 0 };
      let entry: Node['entry'];
      if (type === 'file') entry = { ...meta, size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
      else if (type === 'symlink') entry = { ...meta, link: header.linkname ?? '' };
      else if (type === 'char' || type === 'block') entry = { ...meta, device: `${header.devmajor ?? 0}:${header.devminor ?? 0}` };
      else entry = meta;
      state.set(p, { entry, inode: ++inodes });
    }
  }
  const byInode = new Map<number, string[]>();
  for (const [p, n] of state) if (n.entry.type === 'file') byInode.set(n.inode, [...(byInode.get(n.inode) ?? []), p]);
  return [...state.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, n]) => {
      const group = byInode.get(n.inode);
      return { path, ...n.entry, ...(group && group.length > 1 ? { hardlinkGroup: group.sort()[0]! } : {}) };
    });
}

function entryType(h: tarStream.Header, what: string): EntryType {
  switch (h.type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'dir';
    case 'symlink':
      return 'symlink';
    case 'character-device':
      return 'char';
    case 'block-device':
      return 'block';
    case 'fifo':
      return 'fifo';
    default:
      throw new Error(`${what}: unexpected tar entry type ${String(h.type)}`);
  }
}

/** The config fields of an image config (`.config` of the JSON), `null`s and empty strings dropped. */
export function configFields(configJson: unknown): ImageConfigFields {
  const c = ((configJson as { config?: Record<string, unknown> } | null)?.config ?? {}) as Record<string, unknown>;
  const out: ImageConfigFields = {};
  for (const f of CONFIG_FIELDS) if (c[f] !== undefined && c[f] !== null && c[f] !== '') out[f] = c[f];
  return out;
}

/** The images of an archive file. */
export async function readImageArchive(file: string): Promise<ImageSummary[]> {
  const items = await readTar(readFileSync(file));
  const key = (name: string): string => posix.normalize(name).replace(/^\.\//, '');
  const byName = new Map(items.map((it) => [key(it.header.name), it]));
  // docker save stores a layer that repeats an earlier one as a symlink to it
  const get = (name: string, hops = 0): Buffer => {
    const it = byName.get(key(name));
    if (!it) throw new Error(`${file}: no ${name} in the archive`);
    if (it.header.type !== 'symlink' || hops > 8) return it.body;
    return get(posix.join(posix.dirname(key(name)), it.header.linkname ?? ''), hops + 1);
  };
  const manifest = JSON.parse(get('manifest.json').toString('utf8')) as { Config: string; RepoTags: string[] | null; Layers: string[] }[];
  const out: ImageSummary[] = [];
  for (const m of manifest) {
    const config = JSON.parse(get(m.Config).toString('utf8')) as unknown;
    out.push({
      repoTags: m.RepoTags ?? [],
      config: configFields(config),
      fs: await applyLayers(m.Layers.map((l) => get(l))),
      layers: m.Layers.length,
    });
  }
  return out;
}

/** One line per entry: `path type mode uid:gid [-> link] [sha256:… size] [dev] [hardlink=…]`. */
export function manifestLine(e: FsEntry): string {
  const parts = [e.path, e.type, e.mode.toString(8).padStart(4, '0'), `${e.uid}:${e.gid}`];
  if (e.link !== undefined) parts.push(`-> ${e.link}`);
  if (e.sha256 !== undefined) parts.push(`sha256:${e.sha256.slice(0, 16)} ${e.size}B`);
  if (e.device !== undefined) parts.push(`dev ${e.device}`);
  if (e.hardlinkGroup !== undefined) parts.push(`hardlink=${e.hardlinkGroup}`);
  return parts.join(' ');
}

/**
 * What differs between two manifests, two lines per path (`<name>: <entry>`); empty when equal. Paths `skip`
 * accepts are left out.
 */
export function diffManifests(
  a: readonly FsEntry[],
  b: readonly FsEntry[],
  names: [string, string] = ['a', 'b'],
  skip: (path: string) => boolean = () => false,
): string[] {
  const left = new Map(a.map((e) => [e.path, manifestLine(e)]));
  const right = new Map(b.map((e) => [e.path, manifestLine(e)]));
  const paths = [...new Set([...left.keys(), ...right.keys()])].filter((p) => !skip(p)).sort();
  const out: string[] = [];
  for (const p of paths) {
    const l = left.get(p);
    const r = right.get(p);
    if (l === r) continue;
    out.push(`${names[0]}: ${l ?? `(no ${p})`}`, `${names[1]}: ${r ?? `(no ${p})`}`);
  }
  return out;
}

/** What differs between two configs, one line per field. */
export function diffConfigs(a: ImageConfigFields, b: ImageConfigFields, names: [string, string] = ['a', 'b']): string[] {
  const out: string[] = [];
  for (const f of CONFIG_FIELDS) {
    const l = JSON.stringify(sortKeys(a[f]));
    const r = JSON.stringify(sortKeys(b[f]));
    if (l !== r) out.push(`${f}: ${names[0]} ${l ?? '(unset)'} | ${names[1]} ${r ?? '(unset)'}`);
  }
  return out;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .sort(([x], [y]) => (x < y ? -1 : 1))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  return v;
}

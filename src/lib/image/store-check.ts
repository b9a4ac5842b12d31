/**
 * The image store's consistency check (store.ts describes the layout), with an optional repair of what can be
 * repaired without losing anything: fsck for the store, as `ctr content check` / podman's `system check` do for
 * theirs. What a `kill -9` or a full disk can leave, and what disk damage can:
 *
 * - leftovers of interrupted writes: scratch in tmp/ and leases of dead processes, temp files of atomic writes
 *   (./store-check-scan.ts) — removed on repair;
 * - blobs whose content does not hash to their name, or whose size is not the one a manifest or distribution list
 *   gives — removed on repair (a corrupt blob is of no use: every reader checks it or would be given wrong bytes);
 *   the images that then lack a blob they need are reported (pull or build them again);
 * - layers without a complete layer.json or diff/ (layers appear only by the rename of a complete directory, so
 *   this is damage) — removed on repair, the images using them reported broken; missing or wrong l/ short links —
 *   made again; dangling links — removed;
 * - image records that are unreadable (rebuilt from their config blob and layers when present, else removed with
 *   their names), whose config blob is missing (written again from the record when it reproduces the id) or whose
 *   manifest or index blob is missing (the reference dropped: push makes a manifest again); names pointing to no
 *   record — removed;
 * - unreadable distribution lists and build cache entries, and cache entries naming missing layers — removed.
 *
 * An unpacked layer's files are not compared with its DiffID (that needs a tar of the whole layer); blobs are hashed.
 * Repairs that change metadata run under the store's lock, so a concurrent pull or gc sees the store before or after.
 */
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../fs/atomic.js';
import type { LayerMeta } from './content.js';
import { chainIds, hexOf, sha256, shortLinkName } from './digest.js';
import { tempName } from './fsutil.js';
import { StoreLayout } from './layout.js';
import { makeRecord, parseConfig, type ImageRecord, type Names } from './records.js';
import { tryNormalizeRef } from './reference.js';
import { findLeftovers, hashFile } from './store-check-scan.js';
import type { ImageManifest } from './types.js';

export interface StoreCheckIssue {
  /** `leftover`, `blob`, `layer`, `link`, `image`, `name`, `distribution`, `buildcache`. */
  readonly kind: string;
  /** The object: a digest, an image (its names and id), a path relative to the store root. */
  readonly subject: string;
  readonly problem: string;
  /** What repairing does (or did, when `repaired`). */
  readonly repair?: string | undefined;
  readonly repaired: boolean;
  /** What the user can do about a problem repair leaves (pull or build again). */
  readonly hint?: string | undefined;
}

export interface StoreCheckResult {
  readonly counts: { readonly blobs: number; readonly layers: number; readonly images: number; readonly names: number };
  readonly issues: readonly StoreCheckIssue[];
  /** Images that lack a layer or their config (after the repair, when repairing): pull or build them again. */
  readonly brokenImages: readonly string[];
}

export interface StoreCheckOptions {
  readonly repair?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

const HEX64 = /^[a-f0-9]{64}$/;
const BUILD_CACHE = 'buildcache';

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

async function readJsonFile<T>(p: string): Promise<{ value?: T; error?: string }> {
  let text: string;
  try {
    text = await readFile(p, 'utf8');
  } catch (e) {
    return { error: (e as Error).message };
  }
  try {
    return { value: JSON.parse(text) as T };
  } catch (e) {
    return { error: `not valid JSON (${(e as Error).message})` };
  }
}

/** Checks (and with `repair` repairs) the image store at `root`. A store that was never made is empty and fine. */
export async function checkImageStore(root: string, options: StoreCheckOptions = {}): Promise<StoreCheckResult> {
  const issues: StoreCheckIssue[] = [];
  const counts = { blobs: 0, layers: 0, images: 0, names: 0 };
  if (!(await exists(root))) return { counts, issues, brokenImages: [] };
  const layout = new StoreLayout(root);
  const repair = options.repair === true;
  const signal = options.signal;
  const add = (i: Omit<StoreCheckIssue, 'repaired'>, repaired = false): void => void issues.push({ ...i, repaired });

  // 1. Leftovers of interrupted writes.
  for (const l of await findLeftovers(root)) {
    if (repair) await rm(join(root, l.rel), { recursive: true, force: true });
    add({ kind: 'leftover', subject: l.rel, problem: `${l.what} (pid ${l.pid} is gone)`, repair: 'remove it' }, repair);
  }

  // 2. Image records and names.
  const records = new Map<string, ImageRecord>();
  const unreadable: string[] = [];
  for (const f of (await readdir(layout.path('images')).catch(() => [] as string[])).filter((n) => /^[a-f0-9]{64}\.json$/.test(n))) {
    const id = `sha256:${f.slice(0, 64)}`;
    const r = await readJsonFile<ImageRecord>(layout.path('images', f));
    if (r.value && r.value.id === id && Array.isArray(r.value.layers) && r.value.config) records.set(id, r.value);
    else unreadable.push(id);
  }
  let names: Names = { tags: {}, digests: {} };
  const namesFile = await readJsonFile<Partial<Names>>(layout.path('repositories.json'));
  let namesOk = true;
  if (namesFile.value) names = { tags: namesFile.value.tags ?? {}, digests: namesFile.value.digests ?? {} };
  else if (await exists(layout.path('repositories.json'))) {
    namesOk = false;
    add({
      kind: 'name',
      subject: 'repositories.json',
      problem: `the image names are unreadable: ${namesFile.error ?? ''}`,
      hint: 'images keep their content; tag them again (tscompose image tag) or pull them again, after moving repositories.json aside',
    });
  }
  const namesOf = (id: string): string[] =>
    [...Object.entries(names.tags), ...Object.entries(names.digests)].filter(([, v]) => v === id).map(([k]) => tryNormalizeRef(k)?.familiar ?? k);
  const label = (id: string): string => {
    const n = namesOf(id);
    return n.length > 0 ? `${n[0]} (${hexOf(id).slice(0, 12)})` : hexOf(id).slice(0, 12);
  };
  const againHint = (id: string): string =>
    namesOf(id).length > 0 ? `pull or build ${namesOf(id)[0]} again` : 'pull or build the image again (it has no name left)';

  // 3. Blobs: content against the name; sizes against what manifests and distribution lists say.
  const expectedSize = new Map<string, number>();
  for (const r of records.values()) {
    if (!r.manifest) continue;
    const m = await readJsonFile<ImageManifest>(layout.blobPath(r.manifest.digest));
    for (const d of m.value ? [m.value.config, ...(m.value.layers ?? [])] : []) if (d?.digest) expectedSize.set(d.digest, d.size);
  }
  const distFiles = await readdir(layout.path('distribution')).catch(() => [] as string[]);
  for (const f of distFiles.filter((n) => /^[a-f0-9]{64}\.json$/.test(n))) {
    const d = await readJsonFile<{ digest: string; size: number }[]>(layout.path('distribution', f));
    if (!Array.isArray(d.value)) {
      if (repair) await layout.locked(() => rm(layout.path('distribution', f), { force: true }));
      add(
        {
          kind: 'distribution',
          subject: `distribution/${f}`,
          problem: `unreadable: ${d.error ?? 'not a list'}`,
          repair: 'remove it (push and save tar the layer again)',
        },
        repair,
      );
      continue;
    }
    for (const b of d.value) if (typeof b?.digest === 'string' && typeof b.size === 'number') expectedSize.set(b.digest, b.size);
  }
  const corrupt = new Set<string>();
  for (const name of await readdir(layout.path('blobs', 'sha256')).catch(() => [] as string[])) {
    signal?.throwIfAborted();
    const file = layout.path('blobs', 'sha256', name);
    if (!HEX64.test(name)) {
      if (name.startsWith('.')) continue; // a temp file of a live writer (dead ones were leftovers above)
      if (repair) await rm(file, { recursive: true, force: true });
      add({ kind: 'blob', subject: `blobs/sha256/${name}`, problem: 'not a blob (its name is no digest)', repair: 'remove it' }, repair);
      continue;
    }
    counts.blobs++;
    const digest = `sha256:${name}`;
    let got: { digest: string; size: number };
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a regular file');
      got = await hashFile(file, signal);
    } catch (e) {
      if (signal?.aborted) throw e;
      got = { digest: `(unreadable: ${(e as Error).message})`, size: -1 };
    }
    const want = expectedSize.get(digest);
    let problem: string | undefined;
    if (got.digest !== digest) problem = `its content has digest ${got.digest}${got.size >= 0 ? ` (${got.size} bytes)` : ''}`;
    else if (want !== undefined && want !== got.size) problem = `it has ${got.size} bytes, ${want} expected`;
    if (problem === undefined) continue;
    corrupt.add(digest);
    if (repair) {
      // Under the lock, checked again: a pull may just have put the right blob in its place.
      await layout.locked(async () => {
        const again = await hashFile(file, signal).catch(() => undefined);
        if (again?.digest !== digest || (want !== undefined && again.size !== want)) await rm(file, { force: true });
        else corrupt.delete(digest);
      });
    }
    add({ kind: 'blob', subject: digest, problem: `corrupt blob: ${problem}`, repair: 'remove it' }, repair);
  }

  // 4. Layers: complete directories, and their short links.
  const goodLayers = new Set<string>();
  for (const hex of await readdir(layout.path('layers')).catch(() => [] as string[])) {
    counts.layers++;
    const dir = layout.path('layers', hex);
    const meta = await readJsonFile<LayerMeta>(join(dir, 'layer.json'));
    let problem: string | undefined;
    if (!HEX64.test(hex)) problem = 'not a layer (its name is no chain id)';
    else if (!meta.value) problem = `incomplete layer: layer.json ${meta.error ?? 'missing'}`;
    else if (meta.value.chainId !== `sha256:${hex}`) problem = `layer.json names another layer (${meta.value.chainId})`;
    else if (
      !(await stat(join(dir, 'diff')).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      problem = 'incomplete layer: no diff/ directory';
    if (problem === undefined) {
      goodLayers.add(`sha256:${hex}`);
      const link = layout.path('l', shortLinkName(`sha256:${hex}`));
      const target = `../layers/${hex}/diff`;
      const have = await readlink(link).catch(() => undefined);
      if (have !== target) {
        if (repair) {
          await mkdir(layout.path('l'), { recursive: true });
          await unlink(link).catch(() => undefined);
          await symlink(target, link);
        }
        add(
          {
            kind: 'link',
            subject: `l/${shortLinkName(`sha256:${hex}`)}`,
            problem: have === undefined ? `missing link to layer ${hex.slice(0, 12)}` : `points to ${have}, not ${target}`,
            repair: 'make it again',
          },
          repair,
        );
      }
      continue;
    }
    if (repair) {
      await layout.locked(async () => {
        const aside = layout.path('tmp', `gc-${tempName()}`);
        await rename(dir, aside);
        await rm(aside, { recursive: true, force: true });
      });
    }
    add({ kind: 'layer', subject: `layers/${hex}`, problem, repair: 'remove it' }, repair);
  }
  for (const name of await readdir(layout.path('l')).catch(() => [] as string[])) {
    const link = layout.path('l', name);
    const target = await readlink(link).catch(() => undefined);
    if (
      target !== undefined &&
      (await exists(layout.path('l', target))) &&
      goodLayers.has(`sha256:${/layers\/([a-f0-9]{64})\//.exec(target)?.[1] ?? ''}`)
    )
      continue;
    if (repair) await rm(link, { force: true });
    add(
      { kind: 'link', subject: `l/${name}`, problem: target === undefined ? 'not a link' : `dangling link to ${target}`, repair: 'remove it' },
      repair,
    );
  }

  // 5. Records: unreadable ones rebuilt or removed; each record's config, manifest, layers.
  for (const id of unreadable) {
    const config = await readFile(layout.blobPath(id)).catch(() => undefined);
    let rebuilt: ImageRecord | undefined;
    if (config && !corrupt.has(id) && sha256(config) === id) {
      try {
        const cfg = parseConfig(config, id);
        const chains = chainIds(cfg.rootfs.diff_ids);
        if (chains.every((c) => goodLayers.has(c))) {
          const metas = await Promise.all(
            chains.map(async (c) => JSON.parse(await readFile(join(layout.layerRoot(c), 'layer.json'), 'utf8')) as LayerMeta),
          );
          rebuilt = makeRecord(id, cfg, metas);
        }
      } catch {
        rebuilt = undefined;
      }
    }
    if (repair) {
      await layout.locked(async () => {
        if (rebuilt) await writeJsonAtomic(layout.recordPath(id), rebuilt);
        else await rm(layout.recordPath(id), { force: true });
      });
    }
    if (rebuilt) records.set(id, rebuilt);
    add(
      {
        kind: 'image',
        subject: label(id),
        problem: 'its record (images/<id>.json) is unreadable',
        repair: rebuilt ? 'write it again from its config blob and layers' : 'remove it (its config or layers are gone too)',
        hint: rebuilt ? undefined : againHint(id),
      },
      repair,
    );
  }
  const broken = new Map<string, string>();
  for (const r of records.values()) {
    counts.images++;
    let drop: 'manifest' | 'extraBlobs' | undefined;
    const chains = chainIds(r.config.rootfs?.diff_ids ?? []);
    if (chains.length !== r.layers.length || r.layers.some((l, i) => l.chainId !== chains[i])) {
      broken.set(r.id, 'its layers do not match its config');
    }
    const missingLayer = r.layers.find((l) => !goodLayers.has(l.chainId));
    if (missingLayer)
      broken.set(
        r.id,
        `layer ${hexOf(missingLayer.chainId).slice(0, 12)} is missing${issues.some((i) => i.subject === `layers/${hexOf(missingLayer.chainId)}`) ? ' (it was damaged)' : ''}`,
      );
    const configThere = !corrupt.has(r.id) && (await exists(layout.blobPath(r.id)));
    if (!configThere) {
      // A built image's config blob is JSON.stringify of its config: it can be written again from the record.
      const bytes = Buffer.from(JSON.stringify(r.config));
      const restorable = sha256(bytes) === r.id;
      if (repair && restorable) await writeFileAtomic(layout.blobPath(r.id), bytes);
      add(
        {
          kind: 'image',
          subject: label(r.id),
          problem: 'its config blob is missing',
          repair: restorable ? 'write it again from the image record' : undefined,
          hint: restorable ? undefined : againHint(r.id),
        },
        repair && restorable,
      );
      if (!restorable) broken.set(r.id, broken.get(r.id) ?? 'its config blob is missing');
    }
    if (r.manifest && (corrupt.has(r.manifest.digest) || !(await exists(layout.blobPath(r.manifest.digest))))) drop = 'manifest';
    const missingExtra: string[] = [];
    for (const b of r.extraBlobs ?? []) if (corrupt.has(b) || !(await exists(layout.blobPath(b)))) missingExtra.push(b);
    if (drop || missingExtra.length > 0) {
      if (repair) {
        await layout.locked(async () => {
          const next: ImageRecord = { ...r };
          if (drop) delete next.manifest;
          if (missingExtra.length) next.extraBlobs = (r.extraBlobs ?? []).filter((b) => !missingExtra.includes(b));
          await writeJsonAtomic(layout.recordPath(r.id), next);
        });
      }
      add(
        {
          kind: 'image',
          subject: label(r.id),
          problem: `its ${drop ? 'manifest' : 'index'} blob ${(drop ? r.manifest!.digest : missingExtra[0]!).slice(0, 19)} is missing`,
          repair: 'forget it (push makes a manifest again)',
        },
        repair,
      );
    }
  }

  // 6. Names pointing to no record.
  if (namesOk) {
    const dangling: [kind: 'tags' | 'digests', key: string][] = [];
    for (const kind of ['tags', 'digests'] as const) {
      for (const [key, id] of Object.entries(names[kind])) {
        counts.names++;
        if (!records.has(id)) dangling.push([kind, key]);
      }
    }
    if (repair && dangling.length > 0) {
      await layout.locked(async () => {
        const now = await readJsonFile<Partial<Names>>(layout.path('repositories.json'));
        if (!now.value) return;
        const next: Names = { tags: { ...now.value.tags }, digests: { ...now.value.digests } };
        for (const [kind, key] of dangling) if (!(await exists(layout.recordPath(next[kind][key] ?? '')))) delete next[kind][key];
        await writeJsonAtomic(layout.path('repositories.json'), next);
      });
    }
    for (const [kind, key] of dangling) {
      add(
        {
          kind: 'name',
          subject: tryNormalizeRef(key)?.familiar ?? key,
          problem: `names image ${hexOf(names[kind][key]!).slice(0, 12)}, which is not in the store`,
          repair: 'remove the name',
        },
        repair,
      );
    }
  }

  // 7. Build cache entries: unreadable, or naming layers the store lacks.
  for (const f of await readdir(layout.path(BUILD_CACHE)).catch(() => [] as string[])) {
    if (!/\.json$/.test(f) || f.startsWith('.')) continue;
    // a step's entry ({layers, …}) or an image's times ({created, history}: no layers)
    const e = await readJsonFile<{ layers?: unknown }>(layout.path(BUILD_CACHE, f));
    const object = typeof e.value === 'object' && e.value !== null;
    const layers = object && Array.isArray(e.value!.layers) ? (e.value!.layers as { chainId?: unknown }[]) : [];
    const missing = layers.find((l) => typeof l?.chainId !== 'string' || !goodLayers.has(l.chainId));
    if (object && !missing) continue;
    if (repair) await rm(layout.path(BUILD_CACHE, f), { force: true });
    const problem = missing
      ? `names layer ${typeof missing?.chainId === 'string' ? hexOf(missing.chainId).slice(0, 12) : '(none)'}, which is not in the store`
      : `unreadable: ${e.error ?? 'not an object'}`;
    add({ kind: 'buildcache', subject: `${BUILD_CACHE}/${f}`, problem, repair: 'remove the entry (the step runs again on the next build)' }, repair);
  }

  const brokenImages = [...broken.keys()];
  for (const [id, why] of broken) add({ kind: 'image', subject: label(id), problem: `the image is unusable: ${why}`, hint: againHint(id) });
  return { counts, issues, brokenImages };
}

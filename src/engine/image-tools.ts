/**
 * The image tools behind `tscompose image …` (for users without a Docker CLI), on any runtime: docker's rows and
 * filters for listing, pull/push/tag, removal reported as `docker rmi` does, inspect, archives (load, save) and
 * prune. Nothing here prints: results go back to the caller (the CLI renders them); progress goes to the engine's
 * event sink. Image names follow the one reference grammar of src/lib/image/reference.ts.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileNotFoundError, TsComposeError, UsageError } from '../errors.js';
import { checkImportPlatform, ImportChangeError, ImportPlatformError, parseChanges } from '../lib/image/import.js';
import { isValidReference, splitReference, withDefaultTag } from '../lib/image/reference.js';
import { NotFoundError, isNotFound } from '../runtime/errors.js';
import type { ImageDetails, ImageSummary, PruneResult } from '../runtime/runtime.js';
import { done, failed, working, type EngineContext } from './events.js';
import { pullOne } from './images.js';

/** Rejects what no engine would accept as an image name (UsageError, docker's wording). */
export function checkReference(ref: string): void {
  if (isValidReference(ref)) return;
  const { name } = splitReference(ref);
  if (name !== name.toLowerCase() && isValidReference(ref.replace(name, name.toLowerCase()))) {
    throw new UsageError(`invalid reference format: repository name (${name}) must be lowercase`);
  }
  throw new UsageError(`invalid reference format: ${ref}`);
}

// -- ls -----------------------------------------------------------------------------------------------------------

/** One line of `image ls`. */
export interface ImageRow {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly id: string;
  /** Unix milliseconds. */
  readonly created: number;
  readonly sizeBytes: number;
  readonly labels: Readonly<Record<string, string>>;
}

/** One row per tag (docker's `image ls`): `<none>` for untagged images; newest first. */
export function imageRows(images: readonly ImageSummary[]): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const i of images) {
    const base = { id: i.id, created: i.created, sizeBytes: i.sizeBytes, labels: i.labels };
    const digestOf = (repo: string): string => i.repoDigests.find((d) => d.startsWith(`${repo}@`))?.slice(repo.length + 1) ?? '<none>';
    const tags = i.repoTags.filter((t) => t !== '<none>:<none>');
    if (tags.length > 0) {
      for (const t of tags) {
        const { name, tag } = splitReference(t);
        rows.push({ ...base, repository: name, tag: tag ?? 'latest', digest: digestOf(name) });
      }
    } else if (i.repoDigests.some((d) => d !== '<none>@<none>')) {
      for (const d of i.repoDigests.filter((x) => x !== '<none>@<none>')) {
        const { name, digest } = splitReference(d);
        rows.push({ ...base, repository: name, tag: '<none>', digest: digest ?? '<none>' });
      }
    } else {
      rows.push({ ...base, repository: '<none>', tag: '<none>', digest: '<none>' });
    }
  }
  return rows.sort((a, b) => b.created - a.created || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));
}

/** `*` and `?` globs, as docker's `reference=` filter (path.Match). */
const glob = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );

/** `--filter` values (dangling=BOOL, reference=PATTERN, label=KEY[=VALUE]) as one predicate; UsageError for others. */
export function imageRowFilter(filters: readonly string[]): (r: ImageRow) => boolean {
  const tests: ((r: ImageRow) => boolean)[] = [];
  for (const f of filters) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    switch (key) {
      case 'dangling':
        if (value !== 'true' && value !== 'false') throw new UsageError(`invalid filter 'dangling=${value}' (true or false)`);
        tests.push((r) => (r.repository === '<none>' && r.tag === '<none>') === (value === 'true'));
        break;
      case 'reference': {
        const re = glob(value);
        tests.push((r) => re.test(r.repository) || re.test(`${r.repository}:${r.tag}`));
        break;
      }
      case 'label': {
        const [k, v] = value.split(/=(.*)/s) as [string, string | undefined];
        tests.push((r) => r.labels[k] !== undefined && (v === undefined || r.labels[k] === v));
        break;
      }
      default:
        throw new UsageError(`invalid filter '${f}' (dangling=BOOL, reference=PATTERN or label=KEY[=VALUE])`);
    }
  }
  return (r) => tests.every((t) => t(r));
}

/** The rows `keep` accepts, only those of `reference` (REPOSITORY[:TAG]) when given. */
export async function listImageRows(engine: EngineContext, keep: (r: ImageRow) => boolean, reference?: string): Promise<ImageRow[]> {
  const rows = imageRows(await engine.runtime.listImages({ signal: engine.signal })).filter(keep);
  if (reference === undefined) return rows;
  const { name, tag } = splitReference(reference);
  return rows.filter((r) => r.repository === name && (tag === undefined || r.tag === tag));
}

// -- pull, push, tag ----------------------------------------------------------------------------------------------

/** The only error, or one error listing them all; undefined for none. */
function combineErrors(code: string, errors: readonly unknown[]): unknown {
  if (errors.length <= 1) return errors[0];
  return new TsComposeError(code, errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n'), { cause: errors[0] });
}

/** Settles every task, then throws as combineErrors. */
async function allOrError(code: string, tasks: readonly Promise<unknown>[]): Promise<void> {
  const error = combineErrors(
    code,
    (await Promise.allSettled(tasks)).flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
  );
  if (error !== undefined) throw error;
}

/** Pulls each distinct ref (`:latest` by default) at once; `onPulled` as each one is done. Every pull is tried. */
export async function pullImages(
  engine: EngineContext,
  refs: readonly string[],
  opts: { quiet?: boolean | undefined; platform?: string | undefined; onPulled?: (ref: string) => void } = {},
): Promise<void> {
  const unique = [...new Set(refs.map(withDefaultTag))];
  await allOrError(
    'TSC_PULL',
    unique.map(async (ref) => {
      await pullOne(engine, ref, opts.platform, opts.quiet === true);
      opts.onPulled?.(ref);
    }),
  );
}

/** Pushes `ref` (`:latest` by default), with Pushing/Pushed events. */
export async function pushImage(engine: EngineContext, ref: string, opts: { quiet?: boolean | undefined } = {}): Promise<void> {
  const target = withDefaultTag(ref);
  const resource = `Image ${target}`;
  engine.events.emit(working(resource, 'Pushing'));
  try {
    await engine.runtime.pushImage(target, {
      signal: engine.signal,
      onProgress: opts.quiet
        ? undefined
        : (p) => engine.events.emit({ resource, status: 'working', text: 'Pushing', details: `${p.layer ? `${p.layer}: ` : ''}${p.status}` }),
    });
  } catch (e) {
    engine.events.emit(failed(resource, 'Error', e instanceof Error ? e.message : String(e)));
    throw e;
  }
  engine.events.emit(done(resource, 'Pushed'));
}

/** Tags `source` (a name or an id) as `target` (`:latest` by default). */
export async function tagImage(engine: EngineContext, source: string, target: string): Promise<void> {
  try {
    await engine.runtime.tagImage(source, withDefaultTag(target), { signal: engine.signal });
  } catch (e) {
    throw asGiven(e, source);
  }
}

// -- rm, inspect --------------------------------------------------------------------------------------------------

/** A missing image reported under the name the user gave (engines word their messages differently). */
function asGiven(e: unknown, ref: string): unknown {
  return isNotFound(e) && e.kind === 'image' && e.ref !== ref ? new NotFoundError('image', ref, { cause: e }) : e;
}

/** Whether `ref` names the image by id (full, `sha256:…` or a prefix) rather than by name. */
const namesById = (ref: string, id: string): boolean => {
  const bare = ref.replace(/^sha256:/, '');
  return /^[0-9a-f]+$/i.test(bare) && id.replace(/^sha256:/, '').startsWith(bare);
};

async function exists(engine: EngineContext, ref: string): Promise<boolean> {
  try {
    await engine.runtime.inspectImage(ref, { signal: engine.signal });
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/** What removing one ref did, as `docker rmi` reports it. */
export interface ImageRemoval {
  readonly untagged: readonly string[];
  /** The image id, when the image itself is gone. */
  readonly deleted?: string;
}

/**
 * Removes each ref in turn, `onRemoved` after each; every ref is tried and the failures are thrown together at
 * the end (a cancellation at once).
 */
export async function removeImages(
  engine: EngineContext,
  refs: readonly string[],
  opts: { force?: boolean | undefined },
  onRemoved: (r: ImageRemoval) => void,
): Promise<void> {
  const errors: unknown[] = [];
  for (const ref of refs) {
    try {
      const info = await engine.runtime.inspectImage(ref, { signal: engine.signal });
      const all = (await engine.runtime.listImages({ signal: engine.signal })).find((i) => i.id === info.id);
      const tags = [...new Set([...(all?.repoTags ?? []), ...info.repoTags])].filter((t) => t !== '<none>:<none>');
      const digests = [...new Set([...(all?.repoDigests ?? []), ...info.repoDigests])].filter((d) => d !== '<none>@<none>');
      await engine.runtime.removeImage(ref, { signal: engine.signal, force: opts.force });
      const byId = namesById(ref, info.id);
      const deleted = !(await exists(engine, info.id));
      const untagged = byId || deleted ? [...tags, ...(deleted ? digests : [])] : [tags.includes(ref) ? ref : withDefaultTag(ref)];
      onRemoved(deleted ? { untagged, deleted: info.id } : { untagged });
    } catch (e) {
      if ((e as { code?: unknown }).code === 'TSC_CANCELED' || engine.signal?.aborted) throw e;
      errors.push(asGiven(e, ref));
    }
  }
  const error = combineErrors('TSC_IMAGE_RM', errors);
  if (error !== undefined) throw error;
}

/** The details of each ref found; `error` for the missing ones (the caller shows what was found first). */
export async function inspectImages(engine: EngineContext, refs: readonly string[]): Promise<{ found: ImageDetails[]; error: unknown }> {
  const found: ImageDetails[] = [];
  const errors: unknown[] = [];
  for (const ref of refs) {
    try {
      found.push(await engine.runtime.inspectImageDetails(ref, { signal: engine.signal }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
      errors.push(asGiven(e, ref));
    }
  }
  return { found, error: combineErrors('TSC_NOT_FOUND', errors) };
}

// -- load, save, prune --------------------------------------------------------------------------------------------

/** An image archive to load, opened before any engine is asked (a missing file is FileNotFoundError). */
export async function openImageArchive(file: string): Promise<Readable> {
  try {
    const fh = await open(file, 'r');
    return fh.createReadStream();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileNotFoundError(`${file}: no such file`, undefined, { cause: e });
    throw new TsComposeError('TSC_FILE', `reading ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Loads an archive (docker save or OCI layout); the `Loaded image: …` lines. */
export async function loadImages(engine: EngineContext, archive: Readable): Promise<readonly string[]> {
  return (await engine.runtime.loadImage(archive, { signal: engine.signal })).loaded;
}

/** What `image import` takes besides the tarball. */
export interface ImportImageOptions {
  readonly changes?: readonly string[] | undefined;
  readonly message?: string | undefined;
  /** `repository[:tag]`. */
  readonly tag?: string | undefined;
  readonly platform?: string | undefined;
  /** The file name (`-` for stdin), for messages. */
  readonly source?: string | undefined;
}

/**
 * Checks `image import`'s options before any engine is asked: each `--change` (an instruction docker does not
 * allow is a UsageError in docker's words), the tag (checkReference) and `--platform` (the host's only).
 */
export function checkImportOptions(opts: ImportImageOptions): void {
  try {
    parseChanges(opts.changes ?? []);
    checkImportPlatform(opts.platform);
  } catch (e) {
    if (e instanceof ImportChangeError || e instanceof ImportPlatformError) throw new UsageError(e.message, { hint: e.hint, cause: e });
    throw e;
  }
  if (opts.tag !== undefined) {
    checkReference(opts.tag);
    if (opts.tag.includes('@')) throw new UsageError(`image import: ${opts.tag} names a digest; give REPOSITORY[:TAG]`);
  }
}

/** `docker import`: the tarball becomes a one-layer image; its id (`sha256:…`). */
export async function importImage(engine: EngineContext, tarball: Readable, opts: ImportImageOptions = {}): Promise<string> {
  checkImportOptions(opts);
  const r = await engine.runtime.importImage(tarball, {
    signal: engine.signal,
    changes: opts.changes,
    message: opts.message,
    tag: opts.tag,
    platform: opts.platform,
    source: opts.source,
  });
  return r.id;
}

/** The archive (docker save format) of `refs`, as a stream. */
export async function saveImages(engine: EngineContext, refs: readonly string[]): Promise<Readable> {
  return engine.runtime.saveImage(refs, { signal: engine.signal });
}

/** Saves `refs` to `file`: written under a temporary name, then renamed (no partial file is left). */
export async function saveImagesToFile(engine: EngineContext, refs: readonly string[], file: string): Promise<void> {
  const archive = await saveImages(engine, refs);
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'w', 0o644);
  } catch (e) {
    archive.destroy();
    throw new TsComposeError('TSC_FILE', `writing ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    await pipeline(archive, fh.createWriteStream());
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    if (e instanceof TsComposeError || engine.signal?.aborted) throw e;
    throw new TsComposeError('TSC_FILE', `writing ${file}: ${(e as Error).message}`, { cause: e });
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Removes dangling images (`all`: every image no container uses). */
export async function pruneImages(engine: EngineContext, opts: { all?: boolean | undefined } = {}): Promise<PruneResult> {
  return engine.runtime.pruneImages({ signal: engine.signal, all: opts.all });
}

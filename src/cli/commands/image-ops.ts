/**
 * `tscompose image …`: image tools for users without a Docker CLI, on whichever runtime `--runtime` picks. No
 * compose file is involved. Each operation takes an ImageIO (streams, and the engine opened only once the
 * arguments have been checked), so usage errors never need an engine and tests can pass a FakeRuntime.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { done, failed, working, type EngineContext } from '../../engine/events.js';
import { pullOne } from '../../engine/images.js';
import { FileNotFoundError, TsComposeError, UsageError } from '../../errors.js';
import { NotFoundError, isNotFound } from '../../runtime/errors.js';
import type { ImageSummary } from '../../runtime/runtime.js';
import { CanceledError } from '../canceled.js';
import { dockerImageInspect } from '../render/image-inspect.js';
import { table } from '../render/table.js';

export interface ImageIO {
  /** The engine (runtime, progress sink, Ctrl-C signal); opened on first call. */
  session(): Promise<EngineContext>;
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  /** Unix milliseconds (CREATED column); default Date.now. */
  readonly now?: () => number;
}

// -- formatting ---------------------------------------------------------------------------------------------------

/** Sizes as `docker image ls` shows them (go-units HumanSizeWithPrecision, 3 digits): `4.26MB`, `131MB`, `0B`. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** go-units HumanDuration + ` ago`: `Less than a second ago`, `5 minutes ago`, `About an hour ago`, `3 weeks ago`. */
export function timeAgo(thenMs: number, nowMs: number): string {
  const seconds = Math.floor((nowMs - thenMs) / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.round((nowMs - thenMs) / 3_600_000);
  let d: string;
  if (seconds < 1) d = 'Less than a second';
  else if (seconds === 1) d = '1 second';
  else if (seconds < 60) d = `${seconds} seconds`;
  else if (minutes === 1) d = 'About a minute';
  else if (minutes < 60) d = `${minutes} minutes`;
  else if (hours === 1) d = 'About an hour';
  else if (hours < 48) d = `${hours} hours`;
  else if (hours < 24 * 7 * 2) d = `${Math.floor(hours / 24)} days`;
  else if (hours < 24 * 30 * 2) d = `${Math.floor(hours / 24 / 7)} weeks`;
  else if (hours < 24 * 365 * 2) d = `${Math.floor(hours / 24 / 30)} months`;
  else d = `${Math.floor(Math.floor((nowMs - thenMs) / 3_600_000) / 24 / 365)} years`;
  return `${d} ago`;
}

const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

/** `repo:tag` / `host:5000/repo:tag` / `repo@sha256:…` / `repo` → [repo, tag or undefined, digest or undefined]. */
export function splitReference(ref: string): [string, string | undefined, string | undefined] {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return [name.slice(0, colon), name.slice(colon + 1), digest];
  return [name, undefined, digest];
}

/** `busybox` → `busybox:latest`; refs with a tag or digest stay as they are. */
export function withDefaultTag(ref: string): string {
  const [, tag, digest] = splitReference(ref);
  return tag === undefined && digest === undefined ? `${ref}:latest` : ref;
}

// distribution/reference's grammar
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

/** Rejects what no engine would accept as an image name (UsageError, docker's wording). */
export function checkReference(ref: string): void {
  if (REFERENCE.test(ref)) return;
  const [repo] = splitReference(ref);
  if (repo !== repo.toLowerCase() && REFERENCE.test(ref.replace(repo, repo.toLowerCase()))) {
    throw new UsageError(`invalid reference format: repository name (${repo}) must be lowercase`);
  }
  throw new UsageError(`invalid reference format: ${ref}`);
}

// -- image ls -----------------------------------------------------------------------------------------------------

export interface ImageRow {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly id: string;
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
        const [repo, tag] = splitReference(t);
        rows.push({ ...base, repository: repo, tag: tag ?? 'latest', digest: digestOf(repo) });
      }
    } else if (i.repoDigests.some((d) => d !== '<none>@<none>')) {
      for (const d of i.repoDigests.filter((x) => x !== '<none>@<none>')) {
        const [repo, , digest] = splitReference(d);
        rows.push({ ...base, repository: repo, tag: '<none>', digest: digest ?? '<none>' });
      }
    } else {
      rows.push({ ...base, repository: '<none>', tag: '<none>', digest: '<none>' });
    }
  }
  return rows.sort((a, b) => b.created - a.created || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag));
}

/** `*` and `?` globs, as docker's `reference=` filter (path.Match). */
const glob = (pattern: string): RegExp => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);

function rowFilter(filters: readonly string[]): (r: ImageRow) => boolean {
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

export interface LsOptions {
  readonly quiet?: boolean | undefined;
  readonly format?: string | undefined;
  readonly noTrunc?: boolean | undefined;
  readonly digests?: boolean | undefined;
  readonly filter?: readonly string[] | undefined;
}

/** `image ls [REPOSITORY[:TAG]]`. */
export async function imageLs(io: ImageIO, reference: string | undefined, opts: LsOptions = {}): Promise<void> {
  const format = opts.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`unsupported --format: ${format} (table or json)`);
  const keep = rowFilter(opts.filter ?? []);
  const engine = await io.session();
  let rows = imageRows(await engine.runtime.listImages({ signal: engine.signal })).filter(keep);
  if (reference !== undefined) {
    const [repo, tag] = splitReference(reference);
    rows = rows.filter((r) => r.repository === repo && (tag === undefined || r.tag === tag));
  }
  const id = (r: ImageRow): string => (opts.noTrunc ? r.id : shortId(r.id));
  const now = io.now?.() ?? Date.now();
  if (opts.quiet) {
    io.stdout.write([...new Set(rows.map(id))].map((i) => `${i}\n`).join(''));
  } else if (format === 'json') {
    // one object per line, as `docker image ls --format json`
    let text = '';
    for (const r of rows) {
      const obj = {
        Containers: 'N/A',
        CreatedAt: `${new Date(r.created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} +0000 UTC`,
        CreatedSince: timeAgo(r.created, now),
        Digest: r.digest,
        ID: id(r),
        Repository: r.repository,
        SharedSize: 'N/A',
        Size: humanSize(r.sizeBytes),
        Tag: r.tag,
        UniqueSize: 'N/A',
        VirtualSize: humanSize(r.sizeBytes),
      };
      text += `${JSON.stringify(obj)}\n`;
    }
    io.stdout.write(text);
  } else {
    const headers = opts.digests ? ['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE'] : ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
    io.stdout.write(
      table(
        headers,
        rows.map((r) => [r.repository, r.tag, ...(opts.digests ? [r.digest] : []), id(r), timeAgo(r.created, now), humanSize(r.sizeBytes)]),
      ),
    );
  }
}

// -- pull, push, tag ----------------------------------------------------------------------------------------------

/** Throws the only error, or one error listing them all. */
function throwErrors(code: string, errors: readonly unknown[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new TsComposeError(code, errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n'), { cause: errors[0] });
  }
}

/** Settles every task, then throws as throwErrors. */
async function allOrError(code: string, tasks: readonly Promise<unknown>[]): Promise<void> {
  throwErrors(code, (await Promise.allSettled(tasks)).flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])));
}

/** `image pull REF...`: progress through the renderer, then each ref on stdout (as `docker pull`). */
export async function imagePull(io: ImageIO, refs: readonly string[], opts: { quiet?: boolean | undefined; platform?: string | undefined } = {}): Promise<void> {
  for (const r of refs) checkReference(r);
  const engine = await io.session();
  const unique = [...new Set(refs.map(withDefaultTag))];
  await allOrError(
    'TSC_PULL',
    unique.map(async (ref) => {
      await pullOne(engine, ref, opts.platform, opts.quiet === true);
      io.stdout.write(`${ref}\n`);
    }),
  );
}

/** `image push REF`. */
export async function imagePush(io: ImageIO, ref: string, opts: { quiet?: boolean | undefined } = {}): Promise<void> {
  checkReference(ref);
  const engine = await io.session();
  const target = withDefaultTag(ref);
  const resource = `Image ${target}`;
  engine.events.emit(working(resource, 'Pushing'));
  try {
    await engine.runtime.pushImage(target, {
      signal: engine.signal,
      onProgress: opts.quiet ? undefined : (p) => engine.events.emit({ resource, status: 'working', text: 'Pushing', details: `${p.layer ? `${p.layer}: ` : ''}${p.status}` }),
    });
  } catch (e) {
    engine.events.emit(failed(resource, 'Error', e instanceof Error ? e.message : String(e)));
    throw e;
  }
  engine.events.emit(done(resource, 'Pushed'));
}

/** `image tag SOURCE TARGET`. */
export async function imageTag(io: ImageIO, source: string, target: string): Promise<void> {
  checkReference(target);
  const engine = await io.session();
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

/**
 * `image rm REF... [-f]`: `Untagged: …` / `Deleted: sha256:…` lines (as `docker rmi`). Every ref is tried; the
 * failures are reported together at the end.
 */
export async function imageRm(io: ImageIO, refs: readonly string[], opts: { force?: boolean | undefined } = {}): Promise<void> {
  const engine = await io.session();
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
      for (const u of untagged) io.stdout.write(`Untagged: ${u}\n`);
      if (deleted) io.stdout.write(`Deleted: ${info.id}\n`);
    } catch (e) {
      if (e instanceof CanceledError || engine.signal?.aborted) throw e;
      errors.push(asGiven(e, ref));
    }
  }
  throwErrors('TSC_IMAGE_RM', errors);
}

/** `image inspect REF...`: a JSON array as `docker image inspect`; missing images are errors after the output. */
export async function imageInspect(io: ImageIO, refs: readonly string[]): Promise<void> {
  const engine = await io.session();
  const found: unknown[] = [];
  const errors: unknown[] = [];
  for (const ref of refs) {
    try {
      found.push(dockerImageInspect(await engine.runtime.inspectImageDetails(ref, { signal: engine.signal })));
    } catch (e) {
      if (!isNotFound(e)) throw e;
      errors.push(asGiven(e, ref));
    }
  }
  io.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
  throwErrors('TSC_NOT_FOUND', errors);
}

// -- load, save ---------------------------------------------------------------------------------------------------

async function openInput(file: string): Promise<Readable> {
  try {
    const fh = await open(file, 'r');
    return fh.createReadStream();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileNotFoundError(`${file}: no such file`, undefined, { cause: e });
    throw new TsComposeError('TSC_FILE', `reading ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** `image load [-i FILE]`: from FILE, or from stdin when it is not a terminal. */
export async function imageLoad(io: ImageIO, opts: { input?: string | undefined } = {}): Promise<void> {
  if (opts.input === undefined && io.stdin.isTTY) {
    throw new UsageError('requested load from stdin, but stdin is a terminal', { hint: 'pass an archive with -i FILE, or redirect one: tscompose image load < image.tar' });
  }
  const archive = opts.input === undefined ? (io.stdin as Readable) : await openInput(opts.input);
  try {
    const engine = await io.session();
    const { loaded } = await engine.runtime.loadImage(archive, { signal: engine.signal });
    for (const line of loaded) io.stdout.write(`${line}\n`);
  } finally {
    if (opts.input !== undefined) archive.destroy();
  }
}

/** `image save [-o FILE] REF...`: to FILE (written to a temporary name, then renamed), or to stdout when not a terminal. */
export async function imageSave(io: ImageIO, refs: readonly string[], opts: { output?: string | undefined } = {}): Promise<void> {
  if (opts.output === undefined && io.stdout.isTTY) {
    throw new UsageError('cowardly refusing to save to a terminal', { hint: 'use the -o flag or redirect: tscompose image save IMAGE > image.tar' });
  }
  const engine = await io.session();
  const archive = await engine.runtime.saveImage(refs, { signal: engine.signal });
  if (opts.output === undefined) {
    // a closed pipe (`| head -c`) ends the save with an error instead of an unhandled 'error' event
    let broken: Error | undefined;
    const onError = (e: Error): void => {
      broken = e;
      archive.destroy();
    };
    io.stdout.on('error', onError);
    try {
      for await (const chunk of archive) {
        if (broken) break;
        if (!io.stdout.write(chunk as Buffer)) {
          await new Promise<void>((resolve) => {
            const go = (): void => {
              io.stdout.off('drain', go);
              io.stdout.off('error', go);
              resolve();
            };
            io.stdout.on('drain', go);
            io.stdout.on('error', go);
          });
        }
      }
    } catch (e) {
      if (!broken) throw e;
    } finally {
      io.stdout.off('error', onError);
    }
    if (broken) throw new TsComposeError('TSC_FILE', `writing to stdout: ${broken.message}`, { cause: broken });
    return;
  }
  const target = opts.output;
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'w', 0o644);
  } catch (e) {
    archive.destroy();
    throw new TsComposeError('TSC_FILE', `writing ${target}: ${(e as Error).message}`, { cause: e });
  }
  try {
    await pipeline(archive, fh.createWriteStream());
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    if (e instanceof TsComposeError || engine.signal?.aborted) throw e;
    throw new TsComposeError('TSC_FILE', `writing ${target}: ${(e as Error).message}`, { cause: e });
  } finally {
    await fh.close().catch(() => undefined);
  }
}

// -- prune --------------------------------------------------------------------------------------------------------

async function confirm(io: ImageIO, question: string, signal: AbortSignal | undefined): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  try {
    const answer = await rl.question(question, signal ? { signal } : {});
    return /^y(es)?$/i.test(answer.trim());
  } catch (e) {
    if (signal?.aborted) throw new CanceledError();
    throw e;
  } finally {
    rl.close();
  }
}

/** `image prune [-a] [-f]`: asks first (a terminal is needed for that) unless `-f`. */
export async function imagePrune(io: ImageIO, opts: { all?: boolean | undefined; force?: boolean | undefined } = {}): Promise<void> {
  if (!opts.force && !io.stdin.isTTY) {
    throw new UsageError('image prune asks for confirmation, but stdin is not a terminal', { hint: 'pass -f (--force) to prune without a prompt' });
  }
  const engine = await io.session();
  if (!opts.force) {
    const warning = opts.all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
    if (!(await confirm(io, `${warning}\nAre you sure you want to continue? [y/N] `, engine.signal))) {
      throw new TsComposeError('TSC_PRUNE_CANCELED', 'image prune has been cancelled');
    }
  }
  const res = await engine.runtime.pruneImages({ signal: engine.signal, all: opts.all });
  if (res.deleted.length > 0) {
    io.stdout.write('Deleted Images:\n');
    for (const d of res.deleted) io.stdout.write(`${/^sha256:/.test(d) || !/[:@]/.test(d) ? 'deleted' : 'untagged'}: ${d}\n`);
    io.stdout.write('\n');
  }
  io.stdout.write(`Total reclaimed space: ${humanSize(res.reclaimedBytes)}\n`);
}

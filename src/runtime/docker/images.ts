/**
 * Images on Docker Engine: inspect, list, pull, push, tag, remove, build, and the image tools (load, save, prune,
 * full inspect). Functions over the adapter's client (DockerCall); DockerRuntime delegates to them.
 */
import type Docker from 'dockerode';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import { BuildError, NotFoundError, PullError, PushError, RuntimeUnavailableError } from '../errors.js';
import type {
  BuildCachePruneResult,
  BuildProgress,
  BuildSpec,
  CallOptions,
  ImageDetails,
  ImageInfo,
  ImageSummary,
  ImportOptions,
  ImportResult,
  ListOptions,
  LoadResult,
  PruneResult,
  PullProgress,
  PushProgress,
} from '../runtime.js';
import type { PackedContext } from './build-context.js';
import { ClassicProgress } from './buildkit-progress.js';
import type { BuilderChoice, PreparedBuild } from './buildkit.js';
import { invoke, sig, type DockerCall } from './call.js';
import { toImageInfo, toImageSummary } from './convert-answers.js';
import { labelFilters } from './convert.js';
import { engineMessage, isAbortError, mapDockerError } from './errors.js';
import { imageDetailsOf } from './image-details.js';
import { readProgress, type ProgressMessage } from './streams.js';

export async function inspectImage(d: DockerCall, ref: string, options?: CallOptions): Promise<ImageInfo> {
  const raw = await d.call('image', ref, () => invoke(d.docker.getImage(ref), 'inspect', sig(options)));
  return toImageInfo(raw as unknown as Parameters<typeof toImageInfo>[0]);
}

export async function listImages(d: DockerCall, options: ListOptions = {}): Promise<ImageSummary[]> {
  const filters = labelFilters(options.labels);
  const list = await d.call('image', '*', () =>
    d.docker.listImages({ ...(filters ? { filters } : {}), ...sig(options) } as Docker.ListImagesOptions),
  );
  return (list as unknown as Parameters<typeof toImageSummary>[0][]).map(toImageSummary);
}

export async function pullImage(
  d: DockerCall,
  ref: string,
  options?: CallOptions & { platform?: string | undefined; onProgress?: ((event: PullProgress) => void) | undefined },
): Promise<ImageInfo> {
  let failure: string | undefined;
  try {
    const stream = (await d.docker.pull(ref, { ...(options?.platform ? { platform: options.platform } : {}), ...sig(options) })) as Readable;
    failure = await readProgress(stream, (m) => options?.onProgress?.(toPullProgress(ref, m)));
  } catch (e) {
    if (isAbortError(e)) throw e;
    throw new PullError(ref, engineMessage(e), { cause: e });
  }
  if (failure !== undefined) throw new PullError(ref, failure);
  return inspectImage(d, ref, options);
}

export async function pushImage(
  d: DockerCall,
  ref: string,
  options?: CallOptions & { onProgress?: ((event: PushProgress) => void) | undefined },
): Promise<void> {
  await inspectImage(d, ref, options); // NotFound when not present locally (the engine would stream an error)
  const { repo, tag } = splitRef(ref);
  const image = d.docker.getImage(repo);
  let failure: string | undefined;
  try {
    // The engine refuses a push without an X-Registry-Auth header, even an empty one (no credentials).
    const stream = (await image.push({ authconfig: {}, tag, ...sig(options) } as Docker.ImagePushOptions)) as unknown as Readable;
    failure = await readProgress(stream, (m) => options?.onProgress?.(toPullProgress(ref, m)));
  } catch (e) {
    if (isAbortError(e)) throw e;
    const mapped = mapDockerError(e, 'image', ref);
    if (mapped instanceof NotFoundError) throw mapped;
    throw new PushError(ref, engineMessage(e), { cause: e });
  }
  if (failure !== undefined) throw new PushError(ref, failure);
}

export async function tagImage(d: DockerCall, source: string, target: string, options?: CallOptions): Promise<void> {
  const { repo, tag } = splitRef(target);
  await d.call('image', source, () => d.docker.getImage(source).tag({ repo, tag, ...sig(options) }));
}

export async function removeImage(d: DockerCall, ref: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
  await d.call('image', ref, () => d.docker.getImage(ref).remove({ force: options?.force ?? false, ...sig(options) }));
}

/**
 * `docker compose build` on Docker Engine: through the engine's BuildKit when it has it (buildkit.ts), else the
 * classic builder; the first progress line says which (`using BuildKit`, `using the classic builder (why)`).
 * Heredocs are rewritten for builders that predate them (buildkit-heredoc.ts).
 */
export async function buildImage(
  d: DockerCall,
  spec: BuildSpec,
  options?: CallOptions & { onProgress?: ((event: BuildProgress) => void) | undefined },
): Promise<{ id: string }> {
  const ref = spec.tags[0] ?? spec.context;
  const say = (text: string): void => options?.onProgress?.({ text });
  // gRPC, the Dockerfile parser, tar-fs and the .dockerignore matcher are only needed for builds: loaded here.
  const bk = await import('./buildkit.js');
  let choice: BuilderChoice;
  let engineApi: string | undefined;
  try {
    const info = await bk.ping(d.docker, options?.signal);
    engineApi = info.apiVersion;
    choice = bk.chooseBuilder(info, process.env, spec.network);
  } catch (e) {
    if (isAbortError(e)) throw e;
    choice = { buildkit: false, reason: `the engine did not answer /_ping: ${engineMessage(e)}` };
  }
  let prepared: PreparedBuild | undefined;
  if (choice.buildkit) {
    const lowerHeredocs = engineApi === undefined || bk.versionLess(engineApi, bk.HEREDOC_API);
    try {
      prepared = await bk.prepareBuild(d.docker, spec, { lowerHeredocs, signal: options?.signal });
    } catch (e) {
      if (isAbortError(e) || e instanceof BuildError) throw e;
      choice = { buildkit: false, reason: `the BuildKit session failed: ${engineMessage(e)}` };
    }
  }
  say(choice.buildkit ? 'using BuildKit' : `using the classic builder (${choice.reason})`);
  try {
    const query = buildQuery(spec, options);
    let id: string | undefined;
    if (prepared) {
      if (prepared.rewritten > 0) say(rewroteLine(prepared.rewritten));
      ({ id } = await bk.buildWithBuildkit(d.docker, query, prepared, { ref, signal: options?.signal, onProgress: options?.onProgress }));
    } else {
      const packed = await pack(spec, say, ref);
      const steps = new ClassicProgress();
      const emit = (events: BuildProgress[]): void => events.forEach((e) => options?.onProgress?.(e));
      id = await buildClassic(
        d,
        packed.tar,
        { ...query, dockerfile: packed.dockerfile },
        ref,
        (line) => emit(steps.line(line)),
        (error) => emit(steps.finish(error)),
      );
    }
    if (id === undefined || !id.startsWith('sha256:')) id = (await inspectImage(d, id ?? ref, options)).id;
    return { id };
  } finally {
    prepared?.session.close();
  }
}

const rewroteLine = (n: number): string => `rewrote ${n} heredoc instruction(s): this builder's Dockerfile frontend predates heredocs`;

/** The context archive for the classic builder, heredocs rewritten (it has none: see buildkit-heredoc.ts). */
async function pack(spec: BuildSpec, say: (text: string) => void, ref: string): Promise<PackedContext> {
  try {
    const { packContext } = await import('./build-context.js');
    const dockerfile = spec.dockerfile ?? 'Dockerfile';
    const text = spec.dockerfileInline ?? (await readFile(path.resolve(spec.context, dockerfile), 'utf8').catch(() => undefined));
    const { lowerHeredocs } = await import('./buildkit-heredoc.js');
    const lowered = text === undefined ? undefined : lowerHeredocs(text, { buildArgs: spec.args, mounts: false });
    if (lowered) {
      say(rewroteLine(lowered.rewritten));
      return await packContext(spec.context, dockerfile, lowered.dockerfile, {
        files: lowered.files,
        rewritten: spec.dockerfileInline === undefined,
      });
    }
    return await packContext(spec.context, dockerfile, spec.dockerfileInline);
  } catch (e) {
    throw new BuildError(ref, `reading the build context ${spec.context}: ${(e as Error).message}`, { cause: e });
  }
}

/** The `POST /build` query both builders take. */
function buildQuery(spec: BuildSpec, options?: CallOptions): Record<string, unknown> {
  const query: Record<string, unknown> = { t: [...spec.tags], rm: true, forcerm: true, ...sig(options) };
  if (spec.args && Object.keys(spec.args).length > 0) query['buildargs'] = { ...spec.args };
  if (spec.labels && Object.keys(spec.labels).length > 0) query['labels'] = { ...spec.labels };
  if (spec.target !== undefined) query['target'] = spec.target;
  if (spec.noCache) query['nocache'] = true;
  if (spec.pull) query['pull'] = true;
  if (spec.platform !== undefined) query['platform'] = spec.platform;
  if (spec.network !== undefined) query['networkmode'] = spec.network;
  // One `extrahosts` parameter per host, `host:ip` (compose's canonical form is `host=ip`, which engines refuse).
  if (spec.extraHosts && spec.extraHosts.length > 0) query['extrahosts'] = spec.extraHosts.map((h) => h.replace('=', ':'));
  if (spec.cacheFrom && spec.cacheFrom.length > 0) query['cachefrom'] = [...spec.cacheFrom];
  if (spec.shmSizeBytes !== undefined) query['shmsize'] = spec.shmSizeBytes;
  return query;
}

/**
 * The classic builder: its `stream` messages are the progress, one line at a time to `say` (ClassicProgress makes
 * them steps), then `end` with its error if it failed; the image id comes in `aux` or the last line.
 */
async function buildClassic(
  d: DockerCall,
  tar: Readable,
  query: Record<string, unknown>,
  ref: string,
  say: (line: string) => void,
  end: (error: string | undefined) => void,
): Promise<string | undefined> {
  let failure: string | undefined;
  let id: string | undefined;
  try {
    const stream = (await d.docker.buildImage(tar as unknown as NodeJS.ReadableStream, query as Docker.ImageBuildOptions)) as unknown as Readable;
    failure = await readProgress(stream, (m: ProgressMessage) => {
      if (m.aux?.ID) id = m.aux.ID;
      const text = m.stream ?? m.status;
      // one progress event per line, as the BuildKit path gives them
      for (const line of text?.split('\n') ?? []) if (line.trim() !== '') say(line.replace(/\r$/, ''));
      if (id === undefined && m.stream) {
        const built = /Successfully built ([0-9a-f]{12,})/.exec(m.stream);
        if (built) id = built[1];
      }
    });
  } catch (e) {
    if (isAbortError(e)) throw e;
    end(engineMessage(e));
    throw new BuildError(ref, engineMessage(e), { cause: e });
  }
  end(failure);
  if (failure !== undefined) throw new BuildError(ref, failure);
  return id;
}

// -- image tools (`tscompose image …`) ----------------------------------------------------------------------------

export async function loadImage(d: DockerCall, archive: Readable, options?: CallOptions): Promise<LoadResult> {
  const loaded: string[] = [];
  let failure: string | undefined;
  try {
    const stream = (await d.docker.loadImage(archive, { quiet: true, ...sig(options) })) as unknown as Readable;
    failure = await readProgress(stream, (m) => loaded.push(...loadedLines(m)));
  } catch (e) {
    if (isAbortError(e)) throw e;
    const mapped = mapDockerError(e, 'image', 'archive');
    if (mapped instanceof RuntimeUnavailableError) throw mapped;
    throw new TsComposeError('TSC_IMAGE_LOAD', `loading images: ${engineMessage(e)}`, { cause: e });
  }
  if (failure !== undefined) throw new TsComposeError('TSC_IMAGE_LOAD', `loading images: ${failure}`);
  return { loaded };
}

/**
 * `docker import`: POST /images/create?fromSrc=- with the tarball as the body, `changes` (repeated), `message`,
 * `repo`/`tag` and `platform`; the engine answers with progress messages whose last status is the image id.
 */
export async function importImage(d: DockerCall, tarball: Readable, options: ImportOptions = {}): Promise<ImportResult> {
  const query: Record<string, unknown> = {};
  if (options.changes?.length) query['changes'] = [...options.changes];
  if (options.message !== undefined) query['message'] = options.message;
  if (options.platform) query['platform'] = options.platform;
  if (options.tag !== undefined) Object.assign(query, splitRef(options.tag));
  const what = options.source ?? '-';
  let id: string | undefined;
  let failure: string | undefined;
  try {
    const stream = (await d.docker.importImage(tarball, { ...query, ...sig(options) })) as unknown as Readable;
    failure = await readProgress(stream, (m) => {
      if (m.status?.startsWith('sha256:')) id = m.status.trim();
    });
  } catch (e) {
    if (isAbortError(e)) throw e;
    const mapped = mapDockerError(e, 'image', what);
    if (mapped instanceof RuntimeUnavailableError) throw mapped;
    throw new TsComposeError('TSC_IMAGE_IMPORT', `importing ${what}: ${engineMessage(e)}`, { cause: e });
  }
  if (failure !== undefined) throw new TsComposeError('TSC_IMAGE_IMPORT', `importing ${what}: ${failure}`);
  if (id === undefined) throw new TsComposeError('TSC_IMAGE_IMPORT', `importing ${what}: the engine reported no image id`);
  return { id };
}

export async function saveImage(d: DockerCall, refs: readonly string[], options?: CallOptions): Promise<Readable> {
  // The engine only reports a missing image once the (empty) archive has started: check each first.
  for (const ref of refs) await inspectImage(d, ref, options).catch((e: unknown) => Promise.reject(asGivenRef(e, ref)));
  const s = await d.call('image', refs.join(' '), () => invoke(d.docker, 'getImages', { names: [...refs], ...sig(options) }));
  return s as unknown as Readable;
}

export async function pruneImages(d: DockerCall, options?: CallOptions & { readonly all?: boolean | undefined }): Promise<PruneResult> {
  const res = (await d.call('image', '*', () =>
    d.docker.pruneImages({ filters: { dangling: [options?.all ? 'false' : 'true'] }, ...sig(options) }),
  )) as { ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed?: number };
  return toPruneResult(res);
}

/** `POST /build/prune` (`docker builder prune`). */
export async function pruneBuildCache(d: DockerCall, options?: CallOptions & { readonly all?: boolean | undefined }): Promise<BuildCachePruneResult> {
  const res = (await d.call('image', '*', () => invoke(d.docker, 'pruneBuilder', { ...(options?.all ? { all: true } : {}), ...sig(options) }))) as {
    CachesDeleted?: string[] | null;
    SpaceReclaimed?: number;
  };
  return { deleted: res.CachesDeleted?.length ?? 0, reclaimedBytes: res.SpaceReclaimed ?? 0 };
}

export async function inspectImageDetails(d: DockerCall, ref: string, options?: CallOptions): Promise<ImageDetails> {
  const raw = await d
    .call('image', ref, () => invoke(d.docker.getImage(ref), 'inspect', sig(options)))
    .catch((e: unknown) => Promise.reject(asGivenRef(e, ref)));
  return imageDetailsOf(raw);
}

/** `repo:tag` / `host:5000/repo:tag` / `repo` → repo and tag (default `latest`). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

/** NotFound under the ref asked for (engine 20.10 words it `no such image: x: No such image: x`). */
function asGivenRef(e: unknown, ref: string): unknown {
  return e instanceof NotFoundError && e.kind === 'image' && e.ref !== ref ? new NotFoundError('image', ref, { cause: e }) : e;
}

/** The `Loaded image: …` / `Loaded image ID: …` lines of one message of a load stream. */
export function loadedLines(m: ProgressMessage): string[] {
  const text = m.stream ?? m.status ?? '';
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^Loaded image( ID)?: /.test(l));
}

/** The engine's prune answer → PruneResult (untagged refs and deleted ids, in the engine's order). */
export function toPruneResult(
  res: { ImagesDeleted?: readonly { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed?: number } | null | undefined,
): PruneResult {
  const deleted: string[] = [];
  for (const d of res?.ImagesDeleted ?? []) {
    if (d.Untagged) deleted.push(d.Untagged);
    if (d.Deleted) deleted.push(d.Deleted);
  }
  return { deleted, reclaimedBytes: res?.SpaceReclaimed ?? 0 };
}

function toPullProgress(ref: string, m: ProgressMessage): PullProgress {
  const p: { -readonly [K in keyof PullProgress]: PullProgress[K] } = { ref, status: m.status ?? m.error ?? m.stream?.trim() ?? '' };
  if (m.id !== undefined) p.layer = m.id;
  if (m.progressDetail?.current !== undefined) p.current = m.progressDetail.current;
  if (m.progressDetail?.total !== undefined) p.total = m.progressDetail.total;
  return p;
}

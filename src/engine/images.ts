/**
 * Images: what `up` pulls or builds before reconciling, and the `pull`, `push`, `build`, `images` use cases.
 */
import { TsComposeError, UsageError } from '../errors.js';
import { inlineContent } from '../project/file-sources.js';
import type { Project, ServiceConfig } from '../project/types.js';
import { isNotFound } from '../runtime/errors.js';
import type { BuildSpec, ImageSummary } from '../runtime/runtime.js';
import { BuildLog, VertexCounter } from './build-progress.js';
import { parseBytes } from '../util/bytes.js';
import { done, failed, warning, working, type EngineContext } from './events.js';
import { LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE, serviceImage } from './labels.js';
import { selectServices } from './select.js';
import { DEFAULT_TAG, splitReference } from '../lib/image/reference.js';

/** `--build` (always) / `--no-build` (never) / default (build when the image is missing). */
export type BuildPolicy = 'always' | 'never' | 'missing';
/** `--pull`; `policy` = each service's `pull_policy`. */
export type PullPolicy = 'always' | 'missing' | 'never' | 'policy' | 'build';

export function buildSpec(project: Project, service: string, svc: ServiceConfig): BuildSpec {
  const b = svc.build;
  if (!b) throw new UsageError(`service "${service}" has no build section`);
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args ?? {})) if (v !== null) args[k] = v;
  const image = serviceImage(project.name, service, svc);
  const spec: { -readonly [K in keyof BuildSpec]: BuildSpec[K] } = {
    context: b.context,
    tags: [image, ...(b.tags ?? []).filter((t) => t !== image)],
  };
  if (b.dockerfile !== undefined) spec.dockerfile = b.dockerfile;
  if (b.dockerfile_inline !== undefined) spec.dockerfileInline = b.dockerfile_inline;
  if (Object.keys(args).length > 0) spec.args = args;
  if (b.target !== undefined) spec.target = b.target;
  if (b.labels !== undefined) spec.labels = b.labels;
  if (b.no_cache !== undefined) spec.noCache = b.no_cache;
  if (b.pull !== undefined) spec.pull = b.pull;
  const platform = b.platforms?.[0] ?? svc.platform;
  if (platform !== undefined) spec.platform = platform;
  if (b.network !== undefined) spec.network = b.network;
  if (b.extra_hosts !== undefined) spec.extraHosts = b.extra_hosts;
  if (b.cache_from !== undefined) spec.cacheFrom = b.cache_from;
  const shm = b.shm_size === undefined ? undefined : parseBytes(b.shm_size);
  if (shm !== undefined) spec.shmSizeBytes = shm;
  if (b.secrets && b.secrets.length > 0) {
    spec.secrets = b.secrets.map((ref) => {
      const def = project.secrets?.[ref.source];
      if (!def) throw new UsageError(`service "${service}" refers to undefined build secret ${ref.source}`);
      const id = ref.target ?? ref.source;
      if (def.file !== undefined) return { id, file: def.file };
      // `environment:` sources were resolved from the project's environment when it was loaded (project/file-sources.ts).
      return {
        id,
        env:
          inlineContent(ref.source, def, (msg) => {
            throw new UsageError(msg);
          }) ?? '',
      };
    });
  }
  if (b.additional_contexts && Object.keys(b.additional_contexts).length > 0) {
    const dirs: Record<string, string> = {};
    for (const [k, v] of Object.entries(b.additional_contexts)) dirs[k] = v;
    spec.additionalContexts = dirs;
  }
  return spec;
}

async function present(ctx: EngineContext, ref: string): Promise<boolean> {
  try {
    await ctx.runtime.inspectImage(ref, { signal: ctx.signal });
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

export async function pullOne(ctx: EngineContext, ref: string, platform?: string, quiet = false): Promise<void> {
  const resource = `Image ${ref}`;
  ctx.events.emit(working(resource, 'Pulling'));
  try {
    await ctx.runtime.pullImage(ref, {
      signal: ctx.signal,
      platform,
      onProgress: quiet
        ? undefined
        : (p) => ctx.events.emit({ resource, status: 'working', text: 'Pulling', details: `${p.layer ? `${p.layer}: ` : ''}${p.status}` }),
    });
  } catch (e) {
    ctx.events.emit(failed(resource, 'Error', e instanceof Error ? e.message : String(e)));
    throw e;
  }
  ctx.events.emit(done(resource, 'Pulled'));
}

export async function buildOne(
  ctx: EngineContext,
  project: Project,
  service: string,
  svc: ServiceConfig,
  counter: VertexCounter = new VertexCounter(),
): Promise<void> {
  const spec = buildSpec(project, service, svc);
  const resource = `Image ${spec.tags[0]!}`;
  ctx.events.emit(working(resource, 'Building'));
  const log = new BuildLog(resource, service, (e) => ctx.events.emit(e), counter);
  try {
    await ctx.runtime.buildImage(spec, { signal: ctx.signal, onProgress: (p) => log.progress(p) });
  } catch (e) {
    ctx.events.emit(failed(resource, 'Error', e instanceof Error ? e.message : String(e)));
    throw e;
  }
  ctx.events.emit(done(resource, 'Built'));
}

/** What `up`/`run`/`create` do before reconciling: build or pull each service image as the policies say. */
export async function ensureImages(
  ctx: EngineContext,
  project: Project,
  services: readonly string[],
  options: { readonly build?: BuildPolicy | undefined; readonly pull?: PullPolicy | undefined; readonly quiet?: boolean | undefined } = {},
): Promise<void> {
  const pulls = new Map<string, string | undefined>();
  const builds: string[] = [];
  // One lookup per distinct image, all at once (20 services of one image: one engine call, not 20 in a row).
  const lookups = new Map<string, Promise<boolean>>();
  const isPresent = (ref: string): Promise<boolean> => {
    let p = lookups.get(ref);
    if (!p) lookups.set(ref, (p = present(ctx, ref)));
    return p;
  };
  for (const s of services) {
    const svc = project.services[s];
    if (svc) void isPresent(serviceImage(project.name, s, svc)).catch(() => undefined);
  }
  for (const s of services) {
    const svc = project.services[s];
    if (!svc) continue;
    const ref = serviceImage(project.name, s, svc);
    const policy = options.pull === undefined || options.pull === 'policy' ? (svc.pull_policy ?? 'missing') : options.pull;
    if (svc.build && options.build !== 'never') {
      if (options.build === 'always' || policy === 'build' || !(await isPresent(ref))) builds.push(s);
      continue;
    }
    if (policy === 'never') {
      if (!(await isPresent(ref)))
        throw new TsComposeError('TSC_IMAGE_MISSING', `image ${ref} for service "${s}" is not present locally and pull_policy is never`);
      continue;
    }
    if (policy === 'always' || !(await isPresent(ref))) {
      if (!svc.image)
        throw new TsComposeError('TSC_IMAGE_MISSING', `service "${s}" has neither an image nor a build section, or was asked not to build`);
      pulls.set(ref, svc.platform);
    }
  }
  await Promise.all([...pulls].map(([ref, platform]) => pullOne(ctx, ref, platform, options.quiet)));
  await buildAll(
    ctx,
    project,
    builds.map((s) => [s, project.services[s]!]),
  );
}

/**
 * Builds services at the same time, as docker compose's bake does (each image once: services sharing an image name
 * build it once); waits for every build and then fails with the first error.
 */
async function buildAll(ctx: EngineContext, project: Project, list: readonly (readonly [string, ServiceConfig])[]): Promise<void> {
  const seen = new Set<string>();
  const unique = list.filter(([s, svc]) => {
    const ref = serviceImage(project.name, s, svc);
    if (seen.has(ref)) return false;
    seen.add(ref);
    return true;
  });
  const counter = new VertexCounter();
  const results = await Promise.allSettled(unique.map(([s, svc]) => buildOne(ctx, project, s, svc, counter)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export interface PullOptions {
  readonly services?: readonly string[] | undefined;
  readonly ignoreBuildable?: boolean | undefined;
  readonly ignorePullFailures?: boolean | undefined;
  readonly includeDeps?: boolean | undefined;
  readonly policy?: 'always' | 'missing' | undefined;
  readonly quiet?: boolean | undefined;
}

/** `pull`: images of the services (those with `build` only when their image has a name and they can't be built). */
export async function pull(ctx: EngineContext, project: Project, options: PullOptions = {}): Promise<void> {
  const { selected } = selectServices(project, { services: options.services, noDeps: !options.includeDeps });
  const refs = new Map<string, string | undefined>();
  for (const s of [...selected].sort()) {
    const svc = project.services[s]!;
    if (!svc.image) continue;
    if (svc.build && options.ignoreBuildable) continue;
    if (options.policy === 'missing' && (await present(ctx, svc.image))) continue;
    refs.set(svc.image, svc.platform);
  }
  const results = await Promise.allSettled([...refs].map(([ref, platform]) => pullOne(ctx, ref, platform, options.quiet)));
  const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) {
    if (!options.ignorePullFailures) throw bad.reason;
    ctx.events.emit(warning(`Project ${project.name}`, 'Warning', 'some images could not be pulled'));
  }
}

/** `push`: the images of the services that have both `image` and `build` (or all named ones with --include-deps). */
export async function push(
  ctx: EngineContext,
  project: Project,
  options: {
    services?: readonly string[] | undefined;
    ignorePushFailures?: boolean | undefined;
    includeDeps?: boolean | undefined;
    quiet?: boolean | undefined;
  } = {},
): Promise<void> {
  const { selected } = selectServices(project, { services: options.services, noDeps: !options.includeDeps });
  for (const s of [...selected].sort()) {
    const svc = project.services[s]!;
    if (!svc.build || !svc.image) continue;
    const refs = [svc.image, ...(svc.build.tags ?? [])];
    for (const ref of refs) {
      const resource = `Image ${ref}`;
      ctx.events.emit(working(resource, 'Pushing'));
      try {
        await ctx.runtime.pushImage(ref, {
          signal: ctx.signal,
          onProgress: options.quiet
            ? undefined
            : (p) => ctx.events.emit({ resource, status: 'working', text: 'Pushing', details: `${p.layer ? `${p.layer}: ` : ''}${p.status}` }),
        });
        ctx.events.emit(done(resource, 'Pushed'));
      } catch (e) {
        ctx.events.emit(failed(resource, 'Error', e instanceof Error ? e.message : String(e)));
        if (!options.ignorePushFailures) throw e;
      }
    }
  }
}

/** `build`: every selected service with a build section. */
export async function build(
  ctx: EngineContext,
  project: Project,
  options: {
    services?: readonly string[] | undefined;
    noCache?: boolean | undefined;
    pull?: boolean | undefined;
    args?: Readonly<Record<string, string>> | undefined;
    withDeps?: boolean | undefined;
  } = {},
): Promise<string[]> {
  const { selected } = selectServices(project, { services: options.services, noDeps: !options.withDeps });
  const built: string[] = [];
  const list: [string, ServiceConfig][] = [];
  for (const s of [...selected].sort()) {
    const svc = project.services[s]!;
    if (!svc.build) continue;
    const b = {
      ...svc.build,
      ...(options.noCache ? { no_cache: true } : {}),
      ...(options.pull ? { pull: true } : {}),
      ...(options.args ? { args: { ...svc.build.args, ...options.args } } : {}),
    };
    list.push([s, { ...svc, build: b }]);
    built.push(s);
  }
  await buildAll(ctx, project, list);
  if (built.length === 0 && options.services && options.services.length > 0)
    ctx.events.emit(warning(`Project ${project.name}`, 'Warning', 'no service to build'));
  return built;
}

export interface ImageRow {
  readonly container: string;
  readonly repository: string;
  readonly tag: string;
  readonly id: string;
  readonly sizeBytes: number | undefined;
}

/** `images`: the images the project's containers use. */
export async function images(ctx: EngineContext, projectName: string, services: readonly string[] = []): Promise<ImageRow[]> {
  const containers = await ctx.runtime.listContainers({ all: true, labels: { [LABEL_PROJECT]: projectName }, signal: ctx.signal });
  // Sizes are extra: a runtime that cannot list images still gets its rows.
  const summaries: ImageSummary[] = await ctx.runtime.listImages({ signal: ctx.signal }).catch(() => []);
  const rows: ImageRow[] = [];
  for (const c of containers) {
    if (services.length > 0 && !services.includes(c.labels[LABEL_SERVICE] ?? '')) continue;
    if (c.labels[LABEL_ONEOFF] === 'True' && services.length === 0) continue;
    const info = summaries.find((i) => i.id === c.imageId);
    const { name: repository, tag, digest } = splitReference(c.image);
    rows.push({ container: c.name, repository, tag: tag ?? digest ?? DEFAULT_TAG, id: c.imageId, sizeBytes: info?.sizeBytes });
  }
  return rows.sort((a, b) => (a.container < b.container ? -1 : 1));
}

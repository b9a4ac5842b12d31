/**
 * The images of a stack (`--runtime swarm`, issue 15 item 5). A swarm's nodes pull their images from a registry, so
 * the services with `build:` are built on the manager's Docker Engine through the project's own build path
 * (src/engine/images.ts `build`: the same BuildKit or classic builder as `--runtime docker`), pushed to the
 * registry their `image:` names, and deployed pinned by the manifest digest the push stored
 * (`name:tag@sha256:…`), as `docker stack deploy --resolve-image always` pins them: every node runs the same bytes,
 * and a rebuilt image rolls exactly its services.
 *
 * Without a build in this run (`up`, `up --no-build`, `scale`), a built service's image is pinned to the digest
 * the registry serves for its tag now (the manager's engine asks it: GET /distribution/{name}/json), else kept at the
 * digest it is deployed with (the registry does not answer: no roll to an unknown state), else deployed by tag
 * with a warning. Services without `build:` keep their image as written, by tag, each node pulling it (our
 * choice, where docker stack deploy resolves them too: no registry round trip per image at every `up`, and a
 * no-op `up` stays one when a public tag moves).
 */
import { TsComposeError } from '../errors.js';
import { done, failed, warning, working, type EngineContext } from '../engine/events.js';
import { build } from '../engine/images.js';
import { selectServices } from '../engine/select.js';
import { isValidDigest, splitReference, tryNormalizeRef } from '../lib/image/reference.js';
import type { Project } from '../project/types.js';
import { LABEL_IMAGE, scoped } from './convert-names.js';
import { withDefaultTag } from './convert-service.js';
import type { SwarmCallOptions, SwarmService } from './port.js';

/** A built image a swarm cannot deploy: no registry name, or no digest after the push (`TSC_SWARM_IMAGE`). */
export class SwarmImageError extends TsComposeError {
  readonly service: string;
  constructor(service: string, detail: string, hint?: string) {
    super('TSC_SWARM_IMAGE', `service ${JSON.stringify(service)}: ${detail}`, hint === undefined ? {} : { hint });
    this.service = service;
  }
}

/** Asks a registry, through the manager's engine, which manifest a reference names now. */
export interface ImageRegistry {
  /** `sha256:…` of the manifest (or index) `ref` names in its registry. Rejects when the registry cannot tell. */
  digestOf(ref: string, options?: SwarmCallOptions): Promise<string>;
}

/** Service → the image its tasks run, pinned by digest (`StackOptions.pinnedImages`). */
export type ImagePins = Record<string, string>;

/** Whether `image` names its registry (`host:port/…`, `host.domain/…`, `localhost/…`), as a swarm's nodes need. */
export function namesRegistry(image: string): boolean {
  const slash = image.indexOf('/');
  if (slash < 0) return false;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** The compose services with `build:` among `services` (all when empty; with their dependencies when `withDeps`), sorted. */
export function builtServices(project: Project, services: readonly string[] = [], withDeps = false): string[] {
  const { selected } = selectServices(project, { services, noDeps: !withDeps });
  return [...selected].filter((s) => project.services[s]?.build).sort();
}

/** Throws SwarmImageError for a service with `build:` whose image a registry cannot serve to every node. */
export function requirePushable(project: Project, services: readonly string[]): void {
  for (const s of services) {
    const image = project.services[s]?.image;
    const hint = `give it an image: a registry can serve, e.g. registry:5000/${s} (a swarm's nodes pull what they run from a registry)`;
    if (image === undefined || image === '') throw new SwarmImageError(s, 'has build: but no image: to push the built image to', hint);
    if (!namesRegistry(image)) throw new SwarmImageError(s, `image ${JSON.stringify(image)} names no registry to push the built image to`, hint);
  }
}

/** `image` (tag kept, `latest` when it has none) pinned to `digest`: `name:tag@sha256:…`, as docker stack deploy pins. */
export function pinnedImage(image: string, digest: string): string {
  const { name, tag } = splitReference(image);
  return `${withDefaultTag(tag === undefined ? name : `${name}:${tag}`)}@${digest}`;
}

/** The digest among an image's RepoDigests (`name@sha256:…`, as the engine records a push) of `image`'s repository. */
export function repoDigestOf(image: string, repoDigests: readonly string[]): string | undefined {
  const want = tryNormalizeRef(image);
  if (!want) return undefined;
  for (const rd of repoDigests) {
    const at = rd.lastIndexOf('@');
    if (at < 0) continue;
    const have = tryNormalizeRef(rd.slice(0, at));
    const digest = rd.slice(at + 1);
    if (have && have.registry === want.registry && have.repository === want.repository && isValidDigest(digest)) return digest;
  }
  return undefined;
}

/**
 * The pins of the deployed services to keep: a built service whose deployed label names the same image and whose
 * spec runs it pinned (`name:tag@sha256:…`).
 */
export function deployedPins(project: Project, deployed: readonly SwarmService[]): ImagePins {
  const byName = new Map(deployed.map((d) => [d.spec.Name, d]));
  const out: ImagePins = {};
  for (const [key, svc] of Object.entries(project.services)) {
    if (!svc.build || !svc.image) continue;
    const have = byName.get(scoped(project.name, key));
    const running = have?.spec.TaskTemplate?.ContainerSpec?.Image;
    if (!have || running === undefined || have.spec.Labels?.[LABEL_IMAGE] !== svc.image) continue;
    const at = running.lastIndexOf('@');
    if (at > 0 && running.slice(0, at) === withDefaultTag(svc.image) && isValidDigest(running.slice(at + 1))) out[key] = running;
  }
  return out;
}

export interface ResolvePinsOptions {
  /** Pins made in this run (a build and push): kept as they are. */
  readonly pinned?: ImagePins | undefined;
  readonly registry?: ImageRegistry | undefined;
  /** Only these compose services (all when undefined). */
  readonly services?: readonly string[] | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The pins of every built service: `pinned` first, else the registry's digest of its tag now, else the deployed
 * pin; the services left by tag come back in `warnings` (with the reason).
 */
export async function resolvePins(
  project: Project,
  deployed: readonly SwarmService[],
  options: ResolvePinsOptions = {},
): Promise<{ pins: ImagePins; warnings: { service: string; message: string }[] }> {
  const pins: ImagePins = { ...options.pinned };
  const kept = deployedPins(project, deployed);
  const warnings: { service: string; message: string }[] = [];
  const todo = Object.keys(project.services)
    .sort()
    .filter((k) => project.services[k]!.build && project.services[k]!.image && pins[k] === undefined)
    .filter((k) => !options.services || options.services.includes(k));
  // One registry question per distinct image, all at once.
  const asked = new Map<string, Promise<string>>();
  const ask = (image: string): Promise<string> => {
    let p = asked.get(image);
    if (!p) {
      p = options.registry ? options.registry.digestOf(image, { signal: options.signal }) : Promise.reject(new Error('no registry to ask'));
      p.catch(() => undefined);
      asked.set(image, p);
    }
    return p;
  };
  for (const k of todo) if (namesRegistry(project.services[k]!.image!)) void ask(project.services[k]!.image!);
  for (const k of todo) {
    const image = project.services[k]!.image!;
    if (!namesRegistry(image)) {
      // Built here and never pushed anywhere (build refuses it): only the node that built it has it.
      warnings.push({
        service: k,
        message: `image ${image} names no registry: only a node that built it has it (give it an image: a registry can serve, e.g. registry:5000/${k})`,
      });
      continue;
    }
    try {
      const digest = await ask(image);
      if (!isValidDigest(digest)) throw new Error(`the registry answered an invalid digest ${JSON.stringify(digest)}`);
      pins[k] = pinnedImage(image, digest);
    } catch (e) {
      options.signal?.throwIfAborted();
      if (kept[k] !== undefined) pins[k] = kept[k];
      else
        warnings.push({
          service: k,
          message: `image ${image} could not be resolved to a digest (${(e as Error).message}): deployed by tag, so each node pulls it itself and may run other bytes; build and push it with --build`,
        });
    }
  }
  return { pins, warnings };
}

export interface PushOptions {
  readonly ignorePushFailures?: boolean | undefined;
  readonly quiet?: boolean | undefined;
}

/**
 * Pushes the images of `services` (services with `build:` and a registry name; `requirePushable` first) through the
 * engine and returns them pinned by the digest the engine recorded for the push (its RepoDigests). Services sharing
 * an image push it once.
 */
export async function pushPinned(ctx: EngineContext, project: Project, services: readonly string[], options: PushOptions = {}): Promise<ImagePins> {
  requirePushable(project, services);
  const byImage = new Map<string, string[]>();
  for (const s of services) {
    const image = project.services[s]!.image!;
    byImage.set(image, [...(byImage.get(image) ?? []), s]);
  }
  const pins: ImagePins = {};
  const results = await Promise.allSettled(
    [...byImage].map(async ([image, users]) => {
      const resource = `Image ${image}`;
      ctx.events.emit(working(resource, 'Pushing'));
      try {
        await ctx.runtime.pushImage(image, {
          signal: ctx.signal,
          onProgress: options.quiet
            ? undefined
            : (p) => ctx.events.emit({ resource, status: 'working', text: 'Pushing', details: `${p.layer ? `${p.layer}: ` : ''}${p.status}` }),
        });
        const digest = repoDigestOf(image, (await ctx.runtime.inspectImage(image, { signal: ctx.signal })).repoDigests);
        if (digest === undefined)
          throw new SwarmImageError(users[0]!, `image ${image} was pushed but the engine recorded no digest for it`, 'push it again (docker push)');
        for (const s of users) pins[s] = pinnedImage(image, digest);
        ctx.events.emit({ ...done(resource, 'Pushed'), details: digest });
      } catch (e) {
        ctx.events.emit(failed(resource, 'Error', e instanceof Error ? e.message : String(e)));
        throw e;
      }
    }),
  );
  const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) {
    if (!options.ignorePushFailures || ctx.signal?.aborted) throw bad.reason;
    ctx.events.emit(warning(`Project ${project.name}`, 'Warning', 'some images could not be pushed'));
  }
  return pins;
}

export interface BuildForSwarmOptions {
  /** The services to build (all with `build:` when empty). */
  readonly services?: readonly string[] | undefined;
  readonly withDeps?: boolean | undefined;
  readonly noCache?: boolean | undefined;
  readonly pull?: boolean | undefined;
  readonly args?: Readonly<Record<string, string>> | undefined;
  readonly quiet?: boolean | undefined;
}

/**
 * `build` and `up --build` on a swarm: builds the services with `build:` on the engine (refusing first any whose
 * image names no registry), pushes them and returns their pins.
 */
export async function buildForSwarm(ctx: EngineContext, project: Project, options: BuildForSwarmOptions = {}): Promise<ImagePins> {
  const services = builtServices(project, options.services ?? [], options.withDeps === true);
  if (services.length === 0) return {};
  requirePushable(project, services);
  await build(ctx, project, { services, noCache: options.noCache, pull: options.pull, args: options.args });
  return pushPinned(ctx, project, services, { quiet: options.quiet });
}

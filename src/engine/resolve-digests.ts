/**
 * `config --resolve-image-digests` (docker compose `--resolve-image-digests`, compose-go `WithImagesResolved`): each
 * service's `image` pinned to its registry digest, `name:tag@sha256:…`. The digest is the one the runtime knows for
 * the image's repository (its repo digests), pulled first when the image is not there; an image already pinned is
 * left as written, and a service without `image` (built only) too.
 */
import { TsComposeError } from '../errors.js';
import { isNotFound } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Project } from '../project/types.js';

/** `repo[:tag]` → repo (a registry port is not a tag). */
function repository(ref: string): string {
  const at = ref.indexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/** The digest of `ref` among `repoDigests` (`repo@sha256:…`): the one of its repository, else the only one. */
export function digestFor(ref: string, repoDigests: readonly string[]): string | undefined {
  const repo = repository(ref);
  const short = (r: string): string => r.replace(/^docker\.io\/(library\/)?/, '');
  const mine = repoDigests.find((d) => short(repository(d)) === short(repo));
  const chosen = mine ?? (repoDigests.length === 1 ? repoDigests[0] : undefined);
  return chosen?.slice(chosen.indexOf('@') + 1);
}

export async function resolveImageDigests(runtime: Runtime, project: Project, options: { readonly signal?: AbortSignal } = {}): Promise<Project> {
  const services = { ...project.services };
  for (const [name, svc] of Object.entries(project.services)) {
    const image = svc.image;
    if (image === undefined || image.includes('@')) continue;
    let info;
    try {
      info = await runtime.inspectImage(image, { signal: options.signal });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      info = await runtime.pullImage(image, { signal: options.signal });
    }
    const digest = digestFor(image, info.repoDigests);
    if (digest === undefined)
      throw new TsComposeError('TSC_IMAGE_DIGEST', `service "${name}": image ${image} has no registry digest (built or imported locally?)`, {
        hint: 'push it to a registry, or pin it by hand as name@sha256:…',
      });
    services[name] = { ...svc, image: `${image}@${digest}` };
  }
  return { ...project, services };
}

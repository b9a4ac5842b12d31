/**
 * Image references after distribution/reference (`normalize.go`, `regexp.go`): the default registry `docker.io`,
 * the `library/` prefix for single-component Docker Hub names, the default tag `latest`, and the "familiar"
 * spelling Docker shows (`busybox:latest`, `foo/bar:1`, `127.0.0.1:5001/foo:1`).
 */
import { TsComposeError } from '../../errors.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface ImageReference {
  /** Registry host[:port]; `docker.io` for Docker Hub. */
  registry: string;
  /** Repository path inside the registry (`library/busybox`). */
  repository: string;
  tag?: string;
  digest?: string;
  /** Fully qualified: `docker.io/library/busybox:latest`, `host:5000/foo@sha256:…`. */
  canonical: string;
  /** As Docker prints it: `busybox:latest`. */
  familiar: string;
}

/** An invalid image reference. */
export class InvalidReferenceError extends TsComposeError {
  readonly ref: string;
  constructor(ref: string, detail: string) {
    super('TSC_INVALID_REFERENCE', `invalid reference format: ${JSON.stringify(ref)}: ${detail}`);
    this.ref = ref;
  }
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const HEX64 = /^[a-f0-9]{64}$/;

function validDomain(domain: string): boolean {
  let host = domain;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return false;
    const rest = host.slice(end + 1);
    if (rest !== '' && !/^:\d+$/.test(rest)) return false;
    return /^[0-9a-fA-F:.]+$/.test(host.slice(1, end));
  }
  const colon = host.lastIndexOf(':');
  if (colon >= 0) {
    port = host.slice(colon + 1);
    host = host.slice(0, colon);
    if (!/^\d+$/.test(port)) return false;
  }
  return host.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/** Splits a name into the registry and the path, as `splitDockerDomain`. */
function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  if (i < 0) return [DEFAULT_REGISTRY, name];
  const first = name.slice(0, i);
  if (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first) return [DEFAULT_REGISTRY, name];
  let domain = first;
  if (domain === 'index.docker.io') domain = DEFAULT_REGISTRY;
  return [domain, name.slice(i + 1)];
}

/** The familiar name: `docker.io/library/x` → `x`, `docker.io/a/b` → `a/b`, other registries unchanged. */
export function familiarName(registry: string, repository: string): string {
  if (registry !== DEFAULT_REGISTRY) return `${registry}/${repository}`;
  return repository.startsWith('library/') && repository.indexOf('/', 8) < 0 ? repository.slice(8) : repository;
}

function render(name: string, tag: string | undefined, digest: string | undefined): string {
  return name + (tag !== undefined ? `:${tag}` : '') + (digest !== undefined ? `@${digest}` : '');
}

/**
 * Parses and normalises a reference. A reference without tag and digest gets `:latest`. Throws
 * InvalidReferenceError for anything distribution/reference refuses (uppercase repository, bad tag, a bare
 * 64-hex string, …).
 */
export function normalizeRef(ref: string): ImageReference {
  const input = ref.trim();
  if (input === '') throw new InvalidReferenceError(ref, 'empty reference');
  if (HEX64.test(input)) throw new InvalidReferenceError(ref, 'cannot specify 64-byte hexadecimal strings');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError(ref, `invalid digest ${JSON.stringify(digest)}`);
    if (digest.startsWith('sha256:') && !HEX64.test(digest.slice(7))) {
      throw new InvalidReferenceError(ref, `invalid sha256 digest ${JSON.stringify(digest)}`);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError(ref, `invalid tag ${JSON.stringify(tag)}`);
  }
  const [registry, path0] = splitDomain(rest);
  if (!validDomain(registry)) throw new InvalidReferenceError(ref, `invalid registry ${JSON.stringify(registry)}`);
  let repository = path0;
  if (repository === '') throw new InvalidReferenceError(ref, 'empty repository');
  if (repository.toLowerCase() !== repository) throw new InvalidReferenceError(ref, 'repository name must be lowercase');
  if (!repository.split('/').every((c) => COMPONENT.test(c))) {
    throw new InvalidReferenceError(ref, `invalid repository ${JSON.stringify(repository)}`);
  }
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  if (registry.length + 1 + repository.length > 255) throw new InvalidReferenceError(ref, 'repository name too long');
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  const out: ImageReference = {
    registry,
    repository,
    canonical: render(`${registry}/${repository}`, tag, digest),
    familiar: render(familiarName(registry, repository), tag, digest),
  };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** `docker.io/library/busybox` for a reference (no tag, no digest). */
export function repoName(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** Parses a reference without throwing. */
export function tryNormalizeRef(ref: string): ImageReference | undefined {
  try {
    return normalizeRef(ref);
  } catch {
    return undefined;
  }
}

/** Turns a canonical `registry/repo:tag` or `registry/repo@digest` back into the familiar spelling. */
export function familiarize(canonical: string): string {
  return normalizeRef(canonical).familiar;
}

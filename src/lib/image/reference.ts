/**
 * Image references: the one grammar of tscompose, after distribution/reference (`regexp.go`, `normalize.go`) and
 * go-digest:
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] path-component ( "/" path-component )*      (at most 255 characters, normalised)
 *   domain     := host [ ":" port ]          host := domain-component ( "." domain-component )* | "[" ipv6 "]"
 *   path-component := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := algorithm ":" encoded     algorithm := [a-z0-9]+ ( [.+_-] [a-z0-9]+ )*    encoded := [a-zA-Z0-9=_-]+
 *                 (sha256: exactly 64 lowercase hex digits; sha384: 96; sha512: 128)
 *
 * Normalisation as Docker does it: the first component is a domain only if it has a `.` or `:`, is `localhost`
 * or has an uppercase letter; otherwise the domain is `docker.io`, `index.docker.io` is `docker.io`, and a
 * single-component Docker Hub name gets `library/`. normalizeRef also adds the default tag `latest` to a
 * reference without tag and digest; parseReference does not. The "familiar" spelling is the one Docker shows
 * (`busybox:latest`, `foo/bar:1`, `127.0.0.1:5001/foo:1`).
 */
import { InvalidReferenceError } from './errors.js';

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

/** A reference cut at its separators, as written (nothing validated or normalised). */
export interface SplitReference {
  /** Everything before the tag and digest: `busybox`, `host:5000/a/b`. */
  name: string;
  tag?: string;
  digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]+$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
/** go-digest's registered algorithms: their encoded part is lowercase hex of a fixed length. */
const HEX_DIGEST_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const HEX64 = /^[a-f0-9]{64}$/;
const NAME_TOTAL_LENGTH_MAX = 255;

/** Whether `domain` is a host (DNS name, or an IPv6 address in brackets) with an optional numeric port. */
function validDomain(domain: string): boolean {
  let host = domain;
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  if (colon > close) {
    if (!PORT.test(host.slice(colon + 1))) return false;
    host = host.slice(0, colon);
  }
  if (host.startsWith('[')) return IPV6_HOST.test(host);
  return host.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/** Whether `digest` is `algorithm:encoded` as go-digest accepts it (sha256/384/512: lowercase hex of their length). */
export function isValidDigest(digest: string): boolean {
  const m = DIGEST.exec(digest);
  if (!m) return false;
  const hexLength = HEX_DIGEST_LENGTH[m[1]!];
  return hexLength === undefined || (m[2]!.length === hexLength && /^[a-f0-9]+$/.test(m[2]!));
}

/** Whether `tag` is a valid tag. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/**
 * Cuts a reference into name, tag and digest at its separators: the digest after the first `@`, the tag after
 * the last `:` that follows the last `/`. Nothing is validated (see parseReference).
 */
export function splitReference(ref: string): SplitReference {
  const at = ref.indexOf('@');
  const name0 = at >= 0 ? ref.slice(0, at) : ref;
  const colon = name0.lastIndexOf(':');
  const hasTag = colon > name0.lastIndexOf('/');
  const out: SplitReference = { name: hasTag ? name0.slice(0, colon) : name0 };
  if (hasTag) out.tag = name0.slice(colon + 1);
  if (at >= 0) out.digest = ref.slice(at + 1);
  return out;
}

/** `busybox` → `busybox:latest`; a reference with a tag or a digest is returned as it is. Nothing is validated. */
export function withDefaultTag(ref: string): string {
  const { tag, digest } = splitReference(ref);
  return tag === undefined && digest === undefined ? `${ref}:${DEFAULT_TAG}` : ref;
}

/** Splits a name into the registry and the path, as distribution's `splitDockerDomain`. */
function splitDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  const first = name.slice(0, i);
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) return [DEFAULT_REGISTRY, name];
  return [first === 'index.docker.io' ? DEFAULT_REGISTRY : first, name.slice(i + 1)];
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
 * Parses and normalises a reference without adding a default tag. Throws InvalidReferenceError for anything
 * distribution/reference refuses (uppercase repository, bad tag or digest, a bare 64-hex string, surrounding
 * blanks, …).
 */
export function parseReference(ref: string): ImageReference {
  if (ref === '') throw new InvalidReferenceError(ref, 'empty reference');
  if (HEX64.test(ref)) throw new InvalidReferenceError(ref, 'cannot specify 64-byte hexadecimal strings');
  const { name, tag, digest } = splitReference(ref);
  if (digest !== undefined && !isValidDigest(digest)) throw new InvalidReferenceError(ref, `invalid digest ${JSON.stringify(digest)}`);
  if (tag !== undefined && !TAG.test(tag)) throw new InvalidReferenceError(ref, `invalid tag ${JSON.stringify(tag)}`);
  const [registry, path] = splitDomain(name);
  if (!validDomain(registry)) throw new InvalidReferenceError(ref, `invalid registry ${JSON.stringify(registry)}`);
  if (path === '') throw new InvalidReferenceError(ref, 'empty repository');
  if (path.toLowerCase() !== path) throw new InvalidReferenceError(ref, 'repository name must be lowercase');
  if (!path.split('/').every((c) => PATH_COMPONENT.test(c))) throw new InvalidReferenceError(ref, `invalid repository ${JSON.stringify(path)}`);
  const repository = registry === DEFAULT_REGISTRY && !path.includes('/') ? `library/${path}` : path;
  if (registry.length + 1 + repository.length > NAME_TOTAL_LENGTH_MAX) throw new InvalidReferenceError(ref, 'repository name too long');
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

/** Whether parseReference accepts `ref`. */
export function isValidReference(ref: string): boolean {
  try {
    parseReference(ref);
    return true;
  } catch {
    return false;
  }
}

/** parseReference, with the default tag `latest` for a reference without tag and digest. */
export function normalizeRef(ref: string): ImageReference {
  const r = parseReference(ref);
  if (r.tag !== undefined || r.digest !== undefined) return r;
  return { ...r, tag: DEFAULT_TAG, canonical: `${r.canonical}:${DEFAULT_TAG}`, familiar: `${r.familiar}:${DEFAULT_TAG}` };
}

/** `docker.io/library/busybox` for a reference (no tag, no digest). */
export function repoName(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** normalizeRef without throwing. */
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

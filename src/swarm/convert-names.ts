/**
 * Names, labels and small value conversions shared by the compose → swarm mapping. Names and labels are
 * `docker stack deploy`'s (docker/cli cli/compose/convert/compose.go): objects are `<project>_<key>` unless the
 * compose file names them, and every object carries `com.docker.stack.namespace=<project>`, so `docker stack
 * ls/ps/services` see a tscompose stack. Durations become nanoseconds and sizes bytes, as the Engine API takes them.
 */
import { parseBytes } from '../util/bytes.js';
import { parseDuration } from '../util/duration.js';
import type { StringMap } from './api-types.js';
import { SwarmConvertError } from './errors.js';

/** docker stack's namespace label, on services, containers, networks, secrets, configs and volumes. */
export const LABEL_NAMESPACE = 'com.docker.stack.namespace';
/** docker stack's label on a service: the image as the compose file names it (before pinning by digest). */
export const LABEL_IMAGE = 'com.docker.stack.image';
/** tscompose's label on a secret or config: its compose key, to find (and remove) older versions by content. */
export const LABEL_OBJECT_KEY = 'io.tscompose.swarm.key';
/** tscompose's label on a secret or config: the sha256 of what its name's hash was taken from. */
export const LABEL_OBJECT_HASH = 'io.tscompose.swarm.hash';

/** How many hex digits of the content's sha256 a secret's or config's name carries. */
export const CONTENT_HASH_LENGTH = 10;

/** A mapping problem that does not stop the deploy: a key the swarm cannot honour, a value it ignores. */
export interface SwarmWarning {
  /** The compose service, or undefined for a top-level object. */
  readonly service?: string;
  /** The compose key: `privileged`, `ports[2].host_ip`, `networks.front.driver`. */
  readonly key: string;
  readonly message: string;
}

export type Warn = (service: string | undefined, key: string, message: string) => void;

/** `<project>_<name>`, docker stack's Namespace.Scope. */
export function scoped(project: string, name: string): string {
  return `${project}_${name}`;
}

/** A copy of `labels` (sorted by key, for stable output) with the stack's namespace label and `extra` added. */
export function stackLabels(project: string, labels?: Readonly<Record<string, string>>, extra: Readonly<Record<string, string>> = {}): StringMap {
  return sortedMap({ ...labels, ...extra, [LABEL_NAMESPACE]: project });
}

/** The entries of `m` sorted by key, without those whose value is null or undefined. */
export function sortedMap(m: Readonly<Record<string, string | null | undefined>>): StringMap {
  const out: StringMap = {};
  for (const k of Object.keys(m).sort()) {
    const v = m[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  return out;
}

/** A Go duration string (the canonical project's form) or a number of seconds → nanoseconds. */
export function durationNs(value: unknown, service: string | undefined, key: string): number {
  const ns = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : undefined;
  if (ns === undefined || ns < 0) throw new SwarmConvertError(service, key, `invalid duration ${JSON.stringify(value)}`);
  return ns;
}

/** A byte size (decimal string after loading, or `512M`) → bytes. */
export function bytesOf(value: unknown, service: string | undefined, key: string): number {
  const n = typeof value === 'string' || typeof value === 'number' ? parseBytes(value) : undefined;
  if (n === undefined || n < 0) throw new SwarmConvertError(service, key, `invalid size ${JSON.stringify(value)}`);
  return n;
}

/** A non-negative integer, or an error naming the key. */
export function uintOf(value: unknown, service: string | undefined, key: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new SwarmConvertError(service, key, `expected a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

/** CPUs (`1.5`, `'0.25'`) → NanoCPUs, as docker/cli's opts.ParseCPUs. */
export function nanoCpus(value: unknown, service: string | undefined, key: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new SwarmConvertError(service, key, `invalid number of CPUs ${JSON.stringify(value)}`);
  return Math.round(n * 1e9);
}

/**
 * A swarm secret or config name: at most 64 characters of `[a-zA-Z0-9-_.]`, starting and ending with a letter
 * or digit (swarmkit's validateConfigOrSecretAnnotations).
 */
export function checkObjectName(name: string, key: string, hint: string): void {
  if (name.length > 64 || !/^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$/.test(name))
    throw new SwarmConvertError(
      undefined,
      key,
      `${JSON.stringify(name)} is not a valid swarm object name (at most 64 of [a-zA-Z0-9-_.], letter or digit at both ends)`,
      {
        hint,
      },
    );
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

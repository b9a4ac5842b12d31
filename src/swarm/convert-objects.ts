/**
 * Top-level objects of a stack: overlay networks, secrets and configs, and the named volumes its services use.
 * Follows docker/cli's cli/compose/convert/compose.go (`docker stack deploy`): only networks some service uses are
 * created, `default` included; a network's driver defaults to overlay; external objects are referred to by their own
 * name. Unlike docker stack, secrets and configs are named by content (`<project>_<key>-<sha256 prefix>`): a swarm
 * secret or config cannot be updated ("only updates to Labels are allowed"), so a changed one is a new object,
 * the services that use it get a new spec and roll, and the old version (found by its key label) can be removed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FileObjectConfig, NetworkConfig, Project, VolumeConfig } from '../project/types.js';
import type { ConfigSpec, IPAMConfig, NetworkCreateRequest, SecretSpec, StringMap } from './api-types.js';
import {
  checkObjectName,
  CONTENT_HASH_LENGTH,
  LABEL_OBJECT_HASH,
  LABEL_OBJECT_KEY,
  scoped,
  sortedMap,
  stackLabels,
  type Warn,
} from './convert-names.js';
import { SwarmConvertError, SwarmSourceError } from './errors.js';

/** swarmkit's limits on a secret's and a config's data. */
export const MAX_SECRET_BYTES = 500 * 1024;
export const MAX_CONFIG_BYTES = 1000 * 1024;

export type StackNetwork =
  | { readonly key: string; readonly name: string; readonly external: true }
  | { readonly key: string; readonly name: string; readonly external: false; readonly spec: NetworkCreateRequest };

export type StackSecret =
  | { readonly key: string; readonly name: string; readonly external: true }
  | { readonly key: string; readonly name: string; readonly external: false; readonly spec: SecretSpec; readonly hash?: string };

export type StackConfig =
  | { readonly key: string; readonly name: string; readonly external: true }
  | { readonly key: string; readonly name: string; readonly external: false; readonly spec: ConfigSpec; readonly hash: string };

/**
 * A named volume the stack's services mount. Docker creates it on each node where a task first mounts it, with
 * the driver, options and labels the mount carries (VolumeOptions); `down -v` removes it node by node.
 */
export interface StackVolume {
  readonly key: string;
  readonly name: string;
  readonly external: boolean;
  readonly driver?: string;
  readonly driverOpts?: StringMap;
  readonly labels?: StringMap;
}

export const DEFAULT_NETWORK = 'default';

/** The swarm name of a compose network: its `name:`, else its key if external, else `<project>_<key>`. */
export function networkName(project: Project, key: string): string {
  const n: NetworkConfig | undefined = project.networks?.[key];
  return n?.name ?? (n?.external ? key : scoped(project.name, key));
}

/** The swarm name of a compose volume, by the same rule as networks. */
export function volumeName(project: Project, key: string): string {
  const v: VolumeConfig | undefined = project.volumes?.[key];
  return v?.name ?? (v?.external ? key : scoped(project.name, key));
}

/** Networks some service is attached to (`default` for a service that names none), sorted by key. */
export function usedNetworks(project: Project): string[] {
  const used = new Set<string>();
  for (const svc of Object.values(project.services)) {
    if (svc.network_mode !== undefined) continue;
    const nets = svc.networks ? Object.keys(svc.networks) : [];
    if (nets.length === 0) used.add(DEFAULT_NETWORK);
    for (const n of nets) used.add(n);
  }
  return [...used].sort();
}

export function convertNetworks(project: Project, warn: Warn): StackNetwork[] {
  return usedNetworks(project).map((key): StackNetwork => {
    const n = project.networks?.[key];
    const name = networkName(project, key);
    if (n?.external) return { key, name, external: true };
    const driver = n?.driver ?? 'overlay';
    if (driver === 'bridge' || driver === 'host' || driver === 'none')
      warn(undefined, `networks.${key}.driver`, `a ${driver} network is local to one node; a stack's networks span the swarm (use overlay)`);
    const spec: NetworkCreateRequest = { Name: name, Driver: driver, Labels: stackLabels(project.name, n?.labels) };
    if (n?.internal) spec.Internal = true;
    if (n?.attachable) spec.Attachable = true;
    if (n?.enable_ipv6) spec.EnableIPv6 = true;
    if (n?.enable_ipv4 === false) warn(undefined, `networks.${key}.enable_ipv4`, 'overlay networks cannot be IPv6-only; ignored');
    if (n?.driver_opts && Object.keys(n.driver_opts).length > 0) spec.Options = sortedMap(n.driver_opts);
    const ipam = n?.ipam;
    if (ipam && (ipam.driver !== undefined || (ipam.config?.length ?? 0) > 0 || ipam.options !== undefined)) {
      spec.IPAM = {};
      if (ipam.driver !== undefined) spec.IPAM.Driver = ipam.driver;
      if (ipam.config?.length)
        spec.IPAM.Config = ipam.config.map((c) => {
          const out: IPAMConfig = {};
          if (c.subnet !== undefined) out.Subnet = c.subnet;
          if (c.ip_range !== undefined) out.IPRange = c.ip_range;
          if (c.gateway !== undefined) out.Gateway = c.gateway;
          if (c.aux_addresses !== undefined) out.AuxiliaryAddresses = sortedMap(c.aux_addresses);
          return out;
        });
      if (ipam.options !== undefined) spec.IPAM.Options = sortedMap(ipam.options);
    }
    return { key, name, external: false, spec };
  });
}

/** Reads a file's bytes; tests pass their own. */
export type ReadFile = (path: string) => Buffer;

interface Content {
  readonly data: Buffer;
  readonly hash: string;
}

function contentOf(kind: 'secrets' | 'configs', key: string, obj: FileObjectConfig, readFile: ReadFile): Content | undefined {
  let data: Buffer;
  if (obj.file !== undefined) {
    try {
      data = readFile(obj.file);
    } catch (e) {
      throw new SwarmSourceError(`${kind}.${key}.file`, `cannot read ${obj.file}: ${(e as Error).message}`, { cause: e });
    }
  } else if (obj.environment !== undefined) {
    const value = obj.environmentValue;
    if (value === undefined)
      throw new SwarmSourceError(`${kind}.${key}.environment`, `environment variable ${obj.environment} is not set`, {
        hint: `set ${obj.environment} in the shell or the project's .env file`,
      });
    data = Buffer.from(value, 'utf8');
  } else if (obj.content !== undefined) {
    data = Buffer.from(obj.content, 'utf8');
  } else {
    return undefined;
  }
  const max = kind === 'secrets' ? MAX_SECRET_BYTES : MAX_CONFIG_BYTES;
  if (data.length > max)
    throw new SwarmSourceError(`${kind}.${key}`, `${data.length} bytes, more than a swarm ${kind.slice(0, -1)} may hold (${max})`);
  const h = createHash('sha256').update(data);
  // A template driver changes what the task sees: it is part of the identity too.
  if (obj.template_driver !== undefined) h.update(`\0template_driver=${obj.template_driver}`);
  return { data, hash: h.digest('hex') };
}

/** The referenced keys of `kind` across services, sorted. */
function usedObjects(project: Project, kind: 'secrets' | 'configs'): string[] {
  const used = new Set<string>();
  for (const svc of Object.values(project.services)) for (const ref of svc[kind] ?? []) used.add(ref.source);
  return [...used].sort();
}

function lookup(project: Project, kind: 'secrets' | 'configs', key: string): FileObjectConfig {
  const obj = project[kind]?.[key];
  if (!obj) throw new SwarmConvertError(undefined, `${kind}.${key}`, `undefined ${kind.slice(0, -1)}`);
  return obj;
}

const NAME_HINT = 'give it a shorter `name:` in the compose file';

function hashedName(project: Project, kind: 'secrets' | 'configs', key: string, obj: FileObjectConfig, hash: string | undefined): string {
  const base = obj.name ?? scoped(project.name, key);
  const name = hash === undefined ? base : `${base}-${hash.slice(0, CONTENT_HASH_LENGTH)}`;
  checkObjectName(name, `${kind}.${key}`, NAME_HINT);
  return name;
}

function objectLabels(project: Project, key: string, obj: FileObjectConfig, hash: string | undefined): StringMap {
  return stackLabels(project.name, obj.labels, { [LABEL_OBJECT_KEY]: key, ...(hash !== undefined ? { [LABEL_OBJECT_HASH]: hash } : {}) });
}

function externalName(obj: FileObjectConfig, key: string): string {
  return obj.name ?? key;
}

export function convertSecrets(project: Project, readFile: ReadFile = readFileSync): StackSecret[] {
  return usedObjects(project, 'secrets').map((key): StackSecret => {
    const obj = lookup(project, 'secrets', key);
    if (obj.external) return { key, name: externalName(obj, key), external: true };
    const content = contentOf('secrets', key, obj, readFile);
    if (!content && obj.driver === undefined)
      throw new SwarmConvertError(undefined, `secrets.${key}`, 'no source: one of file, environment or driver is required');
    const name = hashedName(project, 'secrets', key, obj, content?.hash);
    const spec: SecretSpec = { Name: name, Labels: objectLabels(project, key, obj, content?.hash) };
    if (content) spec.Data = content.data.toString('base64');
    if (obj.driver !== undefined) spec.Driver = { Name: obj.driver, ...(obj.driver_opts ? { Options: sortedMap(obj.driver_opts) } : {}) };
    if (obj.template_driver !== undefined) spec.Templating = { Name: obj.template_driver };
    return content ? { key, name, external: false, spec, hash: content.hash } : { key, name, external: false, spec };
  });
}

export function convertConfigs(project: Project, readFile: ReadFile = readFileSync): StackConfig[] {
  return usedObjects(project, 'configs').map((key): StackConfig => {
    const obj = lookup(project, 'configs', key);
    if (obj.external) return { key, name: externalName(obj, key), external: true };
    const content = contentOf('configs', key, obj, readFile);
    if (!content) throw new SwarmConvertError(undefined, `configs.${key}`, 'no source: one of file, environment or content is required');
    const name = hashedName(project, 'configs', key, obj, content.hash);
    const spec: ConfigSpec = { Name: name, Labels: objectLabels(project, key, obj, content.hash), Data: content.data.toString('base64') };
    if (obj.template_driver !== undefined) spec.Templating = { Name: obj.template_driver };
    return { key, name, external: false, spec, hash: content.hash };
  });
}

/** Named volumes mounted by some service (`volume` and `cluster` mounts with a source), sorted by key. */
export function convertVolumes(project: Project): StackVolume[] {
  const used = new Set<string>();
  for (const svc of Object.values(project.services))
    for (const v of svc.volumes ?? [])
      if ((v.type === 'volume' || v.type === 'cluster') && v.source && project.volumes?.[v.source]) used.add(v.source);
  return [...used].sort().map((key): StackVolume => {
    const v = project.volumes?.[key] ?? {};
    const name = volumeName(project, key);
    if (v.external) return { key, name, external: true };
    return {
      key,
      name,
      external: false,
      ...(v.driver !== undefined ? { driver: v.driver } : {}),
      ...(v.driver_opts !== undefined ? { driverOpts: sortedMap(v.driver_opts) } : {}),
      labels: stackLabels(project.name, v.labels),
    };
  });
}

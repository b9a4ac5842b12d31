/**
 * Canonical form, applied to each file after interpolation and schema validation, before files are merged:
 * short syntax → long syntax, scalars → their canonical text (durations, byte sizes, octal modes), relative
 * paths → absolute (against the directory the file's paths are relative to). `!reset`/`!override` markers
 * survive, wrapped around canonical values, for the merge phase.
 *
 * One file per concern, as compose-go's `transform/`: this one walks the file (services, ports, top-level
 * networks/volumes/secrets/configs); `canonical-values.ts` holds the scalar and mapping conversions,
 * `canonical-service.ts` the service sections (build, healthcheck, deploy, …), `canonical-volumes.ts` the
 * service volumes.
 *
 * Defaults that would clobber a base file's values when merged (build context, depends_on condition…) are
 * applied after the merge, in `finalize.ts`.
 */
import {
  canonicalBuild,
  canonicalDeploy,
  canonicalHealthcheck,
  toDependsOn,
  toDevices,
  toEnvFiles,
  toExtraHosts,
  toFileRefs,
  toHooks,
  toServiceNetworks,
} from './canonical-service.js';
import {
  absPath,
  fail,
  tagged,
  toBytes,
  toCommand,
  toDuration,
  toFloat,
  toInt,
  toMapping,
  toStringList,
  withMapping,
  type CanonicalContext,
  type Obj,
  type Transform,
} from './canonical-values.js';
import { canonicalDevelop } from './canonical-develop.js';
import { toServiceVolumes } from './canonical-volumes.js';
import { InvalidPortError, hostIpOf, parsePortSpec } from './ports.js';
import { Tagged, isPlainObject, type PathSeg } from './yaml.js';

export function canonicalFile(data: unknown, ctx: CanonicalContext): Obj {
  const top = isPlainObject(data) ? (untagListItems(data) as Obj) : {};
  const out: Obj = {};
  for (const [key, value] of Object.entries(top)) {
    switch (key) {
      case 'version':
        break; // obsolete, ignored (docker compose warns)
      case 'services':
        out.services = mapEntries(value, ctx, ['services'], canonicalService);
        break;
      case 'networks':
        out.networks = mapEntries(value, ctx, ['networks'], canonicalNetwork);
        break;
      case 'volumes':
        out.volumes = mapEntries(value, ctx, ['volumes'], canonicalVolume);
        break;
      case 'secrets':
      case 'configs':
        out[key] = mapEntries(value, ctx, [key], canonicalFileObject);
        break;
      case 'models':
        out.models = mapEntries(value, ctx, ['models'], (v) => (isPlainObject(v) ? { ...v } : {}));
        break;
      default:
        out[key] = value; // name, include, x-*
    }
  }
  return out;
}

/**
 * Tags on list items act at once, as compose-go does: a `!reset` item is dropped, an `!override` item is its
 * value. Tags on mapping values stay for the merge phase.
 */
function untagListItems(value: unknown): unknown {
  if (value instanceof Tagged) return new Tagged(value.tag, untagListItems(value.value));
  if (Array.isArray(value))
    return value.filter((v) => !(v instanceof Tagged && v.tag === 'reset')).map((v) => untagListItems(v instanceof Tagged ? v.value : v));
  if (isPlainObject(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) out[k] = untagListItems(v);
    return out;
  }
  return value;
}

/** Applies `fn` to each entry of a top-level map, preserving Tagged markers. */
function mapEntries(value: unknown, ctx: CanonicalContext, path: PathSeg[], fn: Transform): unknown {
  return tagged(value, (v) => {
    if (!isPlainObject(v)) return {};
    const out: Obj = {};
    for (const [name, entry] of Object.entries(v)) out[name] = tagged(entry, (e) => fn(e, ctx, [...path, name]));
    return out;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Services

const serviceTransforms: Record<string, Transform> = {
  annotations: (v) => toMapping(v, ''),
  labels: (v) => toMapping(v, ''),
  sysctls: (v) => toMapping(v, ''),
  storage_opt: (v) => toMapping(v, ''),
  environment: (v) => toMapping(v, null),
  build: canonicalBuild,
  command: toCommand,
  entrypoint: toCommand,
  secrets: (v, ctx, p) => toFileRefs(v, ctx, p),
  configs: (v, ctx, p) => toFileRefs(v, ctx, p),
  depends_on: toDependsOn,
  deploy: canonicalDeploy,
  develop: canonicalDevelop,
  devices: toDevices,
  dns: toStringList,
  dns_opt: toStringList,
  dns_search: toStringList,
  tmpfs: toStringList,
  expose: toStringList,
  cap_add: toStringList,
  cap_drop: toStringList,
  env_file: toEnvFiles,
  label_file: (v, ctx) => toStringList(v).map((p) => absPath(p, ctx)),
  extra_hosts: toExtraHosts,
  healthcheck: canonicalHealthcheck,
  logging: (v) => (isPlainObject(v) ? withMapping(v, 'options', null) : v),
  mem_limit: toBytes,
  mem_reservation: toBytes,
  memswap_limit: toBytes,
  shm_size: toBytes,
  stop_grace_period: toDuration,
  cpus: toFloat,
  networks: toServiceNetworks,
  ports: toPorts,
  ulimits: (v) => v,
  volumes: toServiceVolumes,
  models: (v) => (Array.isArray(v) ? Object.fromEntries(v.map((m) => [String(m), null])) : v),
  pull_policy: (v) => (v === 'if_not_present' ? 'missing' : v),
  post_start: toHooks,
  pre_stop: toHooks,
};

export function canonicalService(value: unknown, ctx: CanonicalContext, path: PathSeg[]): Obj {
  const svc = isPlainObject(value) ? value : {};
  const out: Obj = {};
  for (const [key, v] of Object.entries(svc)) {
    const fn = serviceTransforms[key];
    out[key] = fn ? tagged(v, (x) => fn(x, ctx, [...path, key])) : v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Ports

function toPorts(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (!Array.isArray(value)) return value;
  const out: unknown[] = [];
  value.forEach((item, i) => {
    if (typeof item === 'number') {
      out.push({ mode: 'ingress', target: item, protocol: 'tcp' });
    } else if (typeof item === 'string') {
      try {
        out.push(...parsePortSpec(item));
      } catch (e) {
        if (!(e instanceof InvalidPortError)) throw e;
        fail(ctx, [...path, i], `${e.message} (expected [[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL], ranges allowed)`);
      }
    } else if (isPlainObject(item)) {
      const o: Obj = {};
      if (item.name !== undefined) o.name = item.name;
      o.mode = item.mode ?? 'ingress';
      if (item.host_ip !== undefined) {
        // compose-go's validation (checkIPAddress): the long form's host_ip must be an IP address.
        if (typeof item.host_ip === 'string' && item.host_ip !== '' && hostIpOf(item.host_ip) === undefined)
          fail(ctx, [...path, i, 'host_ip'], `invalid host IP address ${JSON.stringify(item.host_ip)} (expected e.g. 127.0.0.1 or ::1)`);
        o.host_ip = item.host_ip;
      }
      o.target = toInt(item.target, ctx, [...path, i, 'target']);
      if (item.published !== undefined && item.published !== null && item.published !== '') o.published = String(item.published);
      o.protocol = item.protocol ?? 'tcp';
      if (item.app_protocol !== undefined) o.app_protocol = item.app_protocol;
      for (const [k, v] of Object.entries(item)) if (k.startsWith('x-')) o[k] = v;
      out.push(o);
    } else out.push(item);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Top-level resources

function externalName(obj: Obj): Obj {
  const out: Obj = { ...obj };
  if (isPlainObject(out.external)) {
    const name = out.external.name;
    out.external = true;
    if (typeof name === 'string' && out.name === undefined) out.name = name;
  }
  if (out.external === false) delete out.external;
  return out;
}

function canonicalNetwork(value: unknown): Obj {
  const out = externalName(isPlainObject(value) ? value : {});
  if ('driver_opts' in out) out.driver_opts = toMapping(out.driver_opts, '');
  if ('labels' in out) out.labels = toMapping(out.labels, '');
  const ipam: Obj = isPlainObject(out.ipam) ? { ...out.ipam } : {};
  if (Array.isArray(ipam.config)) ipam.config = ipam.config.map((c) => (isPlainObject(c) ? withMapping(c, 'aux_addresses', '') : c));
  if ('options' in ipam) ipam.options = toMapping(ipam.options, '');
  out.ipam = ipam;
  return out;
}

function canonicalVolume(value: unknown): Obj {
  const out = externalName(isPlainObject(value) ? value : {});
  if ('driver_opts' in out) out.driver_opts = toMapping(out.driver_opts, '');
  if ('labels' in out) out.labels = toMapping(out.labels, '');
  return out;
}

function canonicalFileObject(value: unknown, ctx: CanonicalContext): Obj {
  const out = externalName(isPlainObject(value) ? value : {});
  if (typeof out.file === 'string') out.file = absPath(out.file, ctx);
  if ('labels' in out) out.labels = toMapping(out.labels, '');
  if ('driver_opts' in out) out.driver_opts = toMapping(out.driver_opts, '');
  return out;
}

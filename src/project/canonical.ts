/**
 * Canonical form, applied to each file after interpolation and schema validation, before files are merged:
 * short syntax → long syntax, scalars → their canonical text (durations, byte sizes, octal modes), relative
 * paths → absolute (against the directory the file's paths are relative to). `!reset`/`!override` markers
 * survive, wrapped around canonical values, for the merge phase.
 *
 * Defaults that would clobber a base file's values when merged (build context, depends_on condition…) are
 * applied after the merge, in `finalize.ts`.
 */
import { isAbsolute, posix, resolve as resolvePath } from 'node:path';
import { ConfigError } from '../errors.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { parseBytes } from '../util/bytes.js';
import { splitShellWords } from '../util/shell-words.js';
import { parsePortSpec } from './ports.js';
import { Tagged, formatPath, isPlainObject, type ParsedYaml, type PathSeg } from './yaml.js';

export { formatPath };

export interface CanonicalContext {
  /** Directory relative paths of this file resolve against. */
  readonly baseDir: string;
  /** Home directory for `~` (from the HOME variable of the environment). */
  readonly home: string;
  readonly source: Pick<ParsedYaml, 'file' | 'locate'>;
}

type Obj = Record<string, unknown>;
type Transform = (value: unknown, ctx: CanonicalContext, path: PathSeg[]) => unknown;

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

/** Runs `fn` on a value, or on the inner value of a Tagged marker (re-wrapping it). */
function tagged(value: unknown, fn: (v: unknown) => unknown): unknown {
  if (value instanceof Tagged) return new Tagged(value.tag, value.value === null || value.value === undefined ? null : fn(value.value));
  return fn(value);
}

function fail(ctx: CanonicalContext, path: PathSeg[], detail: string): never {
  throw new ConfigError('TSC_INVALID_VALUE', `${formatPath(path)}: ${detail}`, ctx.source.locate(path));
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

/** `K=V` lists and maps → a map; a key without value → `missing` ('' for labels, null for environment). */
export function toMapping(value: unknown, missing: string | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = String(item);
      const eq = s.indexOf('=');
      if (eq < 0) out[s] = missing;
      else out[s.slice(0, eq)] = s.slice(eq + 1);
    }
    return out;
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) out[k] = v instanceof Tagged ? v : scalarText(v, missing);
    return out;
  }
  return out;
}

function scalarText(v: unknown, missing: string | null): string | null {
  if (v === null || v === undefined) return missing;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function withMapping(obj: Obj, key: string, missing: string | null): Obj {
  return key in obj ? { ...obj, [key]: toMapping(obj[key], missing) } : { ...obj };
}

function toStringList(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

function toCommand(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((v) => String(v));
  try {
    return splitShellWords(String(value));
  } catch (e) {
    fail(ctx, path, (e as Error).message);
  }
}

function toDuration(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (value === null || value === undefined) return value;
  const ns = parseDuration(value as string | number);
  if (ns === undefined) fail(ctx, path, `invalid duration ${JSON.stringify(value)} (expected e.g. 10s, 1m30s, 500ms)`);
  return formatDuration(ns);
}

function toBytes(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (value === null || value === undefined) return value;
  const n = parseBytes(value as string | number);
  if (n === undefined) fail(ctx, path, `invalid size ${JSON.stringify(value)} (expected e.g. 512m, 1g, 1024)`);
  return String(n);
}

function toFloat(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (typeof value === 'number' || value === null || value === undefined) return value;
  const n = Number(value);
  if (!Number.isFinite(n)) fail(ctx, path, `invalid number ${JSON.stringify(value)}`);
  return n;
}

function toInt(value: unknown, ctx: CanonicalContext, path: PathSeg[]): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) fail(ctx, path, `invalid integer ${JSON.stringify(value)}`);
  return n;
}

/** Expands `~` and makes a path absolute. */
export function absPath(p: string, ctx: Pick<CanonicalContext, 'baseDir' | 'home'>): string {
  if (p === '~' || p.startsWith('~/')) return posix.join(ctx.home, p.slice(1));
  return isAbsolute(p) ? posix.normalize(p) : resolvePath(ctx.baseDir, p);
}

function isRemoteContext(p: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || /^git@/.test(p) || p.startsWith('github.com/');
}

function canonicalBuild(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (typeof value === 'string') return { context: isRemoteContext(value) ? value : absPath(value, ctx) };
  if (!isPlainObject(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = tagged(v, (x) => {
      switch (k) {
        case 'context':
          return typeof x === 'string' && !isRemoteContext(x) ? absPath(x, ctx) : x;
        case 'args':
          return toMapping(x, null);
        case 'labels':
          return toMapping(x, '');
        case 'additional_contexts': {
          const m = toMapping(x, '');
          for (const [name, p] of Object.entries(m))
            if (typeof p === 'string' && !isRemoteContext(p) && !/^[a-z-]+:/.test(p)) m[name] = absPath(p, ctx);
          return m;
        }
        case 'ssh':
          return isPlainObject(x) ? Object.entries(x).map(([id, p]) => (p === null ? id : `${id}=${String(p)}`)) : toStringList(x);
        case 'extra_hosts':
          return toExtraHosts(x);
        case 'shm_size':
          return toBytes(x, ctx, [...path, k]);
        case 'secrets':
          return toFileRefs(x, ctx, [...path, k]);
        case 'platforms':
        case 'tags':
        case 'cache_from':
        case 'cache_to':
          return toStringList(x);
        default:
          return x;
      }
    });
  }
  return out;
}

function toFileRefs(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown[] {
  if (!Array.isArray(value)) return [];
  return value.map((item, i) => {
    if (typeof item === 'string') return { source: item };
    if (!isPlainObject(item)) return item;
    const out: Obj = { ...item };
    if (out.uid !== undefined && out.uid !== null) out.uid = String(out.uid);
    if (out.gid !== undefined && out.gid !== null) out.gid = String(out.gid);
    if (out.mode !== undefined && out.mode !== null) out.mode = toOctalMode(out.mode, ctx, [...path, i, 'mode']);
    return out;
  });
}

/** File modes: numbers are the value (YAML `0440` is already octal), strings are octal text. → "0440". */
export function toOctalMode(value: unknown, ctx: CanonicalContext, path: PathSeg[]): string {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^(0o?)?[0-7]+$/i.test(value.trim())) n = parseInt(value.trim().replace(/^0o/i, ''), 8);
  else fail(ctx, path, `invalid file mode ${JSON.stringify(value)} (expected octal, e.g. 0440)`);
  return '0' + n.toString(8);
}

function toDependsOn(value: unknown): unknown {
  if (Array.isArray(value))
    return Object.fromEntries(value.map((s) => [String(s), { condition: 'service_started', required: true }]));
  return value;
}

function toEnvFiles(value: unknown, ctx: CanonicalContext): unknown[] {
  const list = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
  return list.map((item) => {
    if (typeof item === 'string') return { path: absPath(item, ctx) };
    if (!isPlainObject(item)) return item;
    const out: Obj = { path: absPath(String(item.path), ctx) };
    if (item.required === false) out.required = false;
    if (item.format !== undefined) out.format = item.format;
    return out;
  });
}

/** extra_hosts → `host=ip` entries (input `host:ip`, `host=ip`, or a map of host → ip or ips). */
export function toExtraHosts(value: unknown): string[] {
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const s = String(item);
      const eq = s.indexOf('=');
      const sep = eq >= 0 ? eq : s.indexOf(':');
      out.push(sep < 0 ? s : `${s.slice(0, sep)}=${s.slice(sep + 1)}`);
    }
  } else if (isPlainObject(value)) {
    for (const [host, ips] of Object.entries(value)) for (const ip of Array.isArray(ips) ? ips : [ips]) out.push(`${host}=${String(ip)}`);
  }
  return out;
}

function canonicalHealthcheck(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (!isPlainObject(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = tagged(v, (x) => {
      switch (k) {
        case 'test':
          return typeof x === 'string' ? ['CMD-SHELL', x] : Array.isArray(x) ? x.map(String) : x;
        case 'interval':
        case 'timeout':
        case 'start_period':
        case 'start_interval':
          return toDuration(x, ctx, [...path, k]);
        case 'retries':
          return x === null || x === undefined ? x : toInt(x, ctx, [...path, k]);
        default:
          return x;
      }
    });
  }
  return out;
}

function canonicalDeploy(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (!isPlainObject(value)) return value;
  const out: Obj = { ...value };
  if ('labels' in out) out.labels = toMapping(out.labels, '');
  for (const key of ['update_config', 'rollback_config']) {
    const c = out[key];
    if (isPlainObject(c)) {
      const cc: Obj = { ...c };
      for (const d of ['delay', 'monitor']) if (d in cc) cc[d] = toDuration(cc[d], ctx, [...path, key, d]);
      out[key] = cc;
    }
  }
  if (isPlainObject(out.restart_policy)) {
    const rp: Obj = { ...out.restart_policy };
    for (const d of ['delay', 'window']) if (d in rp) rp[d] = toDuration(rp[d], ctx, [...path, 'restart_policy', d]);
    out.restart_policy = rp;
  }
  if (isPlainObject(out.resources)) {
    const res: Obj = { ...out.resources };
    for (const kind of ['limits', 'reservations']) {
      const r = res[kind];
      if (!isPlainObject(r)) continue;
      const rr: Obj = { ...r };
      if ('cpus' in rr) rr.cpus = toFloat(rr.cpus, ctx, [...path, 'resources', kind, 'cpus']);
      if ('memory' in rr) rr.memory = toBytes(rr.memory, ctx, [...path, 'resources', kind, 'memory']);
      res[kind] = rr;
    }
    out.resources = res;
  }
  return out;
}

function toDevices(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item, i) => {
    if (typeof item !== 'string') return item;
    const parts = item.split(':');
    if (parts.length > 3 || parts[0] === '') fail(ctx, [...path, i], `invalid device ${JSON.stringify(item)} (expected SOURCE[:TARGET[:PERMISSIONS]])`);
    return { source: parts[0], target: parts[1] ?? parts[0], permissions: parts[2] ?? 'rwm' };
  });
}

function toServiceNetworks(value: unknown): unknown {
  if (Array.isArray(value)) return Object.fromEntries(value.map((n) => [String(n), null]));
  if (!isPlainObject(value)) return value;
  const out: Obj = {};
  for (const [name, cfg] of Object.entries(value)) {
    out[name] = tagged(cfg, (c) => {
      if (!isPlainObject(c)) return null;
      const cc: Obj = { ...c };
      if ('aliases' in cc) cc.aliases = toStringList(cc.aliases);
      if ('driver_opts' in cc) cc.driver_opts = toMapping(cc.driver_opts, '');
      return cc;
    });
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
      const entries = parsePortSpec(item);
      if (!entries) fail(ctx, [...path, i], `invalid port ${JSON.stringify(item)} (expected [[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL], ranges allowed)`);
      out.push(...entries);
    } else if (isPlainObject(item)) {
      const o: Obj = {};
      if (item.name !== undefined) o.name = item.name;
      o.mode = item.mode ?? 'ingress';
      if (item.host_ip !== undefined) o.host_ip = item.host_ip;
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
// Volumes

const PROPAGATION = new Set(['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);

function isPathLike(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || /^[a-zA-Z]:[\\/]/.test(s);
}

/** Short volume syntax `[SOURCE:]TARGET[:MODE]` → long form. */
export function parseVolumeSpec(spec: string, ctx: Pick<CanonicalContext, 'baseDir' | 'home'>): Obj | undefined {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p, i) => p === '' && i < parts.length)) return undefined;
  if (parts.length === 1) return { type: 'volume', target: cleanTarget(parts[0]!), volume: {} };
  const [source, target, mode] = parts as [string, string, string | undefined];
  const bind = isPathLike(source);
  const out: Obj = bind
    ? { type: 'bind', source: absPath(source, ctx), target: cleanTarget(target) }
    : { type: 'volume', source, target: cleanTarget(target) };
  const bindOpts: Obj = {};
  const volOpts: Obj = {};
  for (const opt of (mode ?? '').split(',').filter(Boolean)) {
    if (opt === 'ro') out.read_only = true;
    else if (opt === 'rw') out.read_only = false;
    else if (opt === 'z' || opt === 'Z') bindOpts.selinux = opt;
    else if (opt === 'nocopy') volOpts.nocopy = true;
    else if (PROPAGATION.has(opt)) bindOpts.propagation = opt;
    else if (CONSISTENCY.has(opt)) out.consistency = opt;
    else if (opt === 'O') out['x-tscompose-overlay'] = true;
    else return undefined;
  }
  if (out.read_only === false) delete out.read_only;
  if (bind) out.bind = bindOpts;
  else out.volume = volOpts;
  return out;
}

function cleanTarget(t: string): string {
  return t.startsWith('/') ? posix.normalize(t).replace(/(.)\/$/, '$1') : t;
}

function toServiceVolumes(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item, i) => {
    if (typeof item === 'string') {
      const v = parseVolumeSpec(item, ctx);
      if (!v) fail(ctx, [...path, i], `invalid volume ${JSON.stringify(item)} (expected [SOURCE:]TARGET[:MODE])`);
      return v;
    }
    if (!isPlainObject(item)) return item;
    const out: Obj = { ...item };
    if (typeof out.target === 'string') out.target = cleanTarget(out.target);
    if (out.type === 'bind' && typeof out.source === 'string') out.source = absPath(out.source, ctx);
    if (isPlainObject(out.bind)) {
      const b: Obj = { ...out.bind };
      if (b.create_host_path === true) delete b.create_host_path;
      out.bind = b;
    }
    if (isPlainObject(out.tmpfs)) {
      const t: Obj = { ...out.tmpfs };
      if ('size' in t) t.size = toBytes(t.size, ctx, [...path, i, 'tmpfs', 'size']);
      out.tmpfs = t;
    }
    if (out.read_only === false) delete out.read_only;
    return out;
  });
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
  if (Array.isArray(ipam.config))
    ipam.config = ipam.config.map((c) => (isPlainObject(c) ? withMapping(c, 'aux_addresses', '') : c));
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


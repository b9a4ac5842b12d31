/**
 * Canonical form of the service sections that need more than a scalar conversion: build, secrets/configs
 * references, depends_on, env_file, extra_hosts, healthcheck, deploy, devices, networks and the lifecycle hooks
 * (`post_start`, `pre_stop`).
 */
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
  toOctalMode,
  toStringList,
  type CanonicalContext,
  type Obj,
} from './canonical-values.js';
import { isPlainObject, type PathSeg } from './yaml.js';

function isRemoteContext(p: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || /^git@/.test(p) || p.startsWith('github.com/');
}

export function canonicalBuild(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
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

export function toFileRefs(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown[] {
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

export function toDependsOn(value: unknown): unknown {
  if (Array.isArray(value)) return Object.fromEntries(value.map((s) => [String(s), { condition: 'service_started', required: true }]));
  return value;
}

export function toEnvFiles(value: unknown, ctx: CanonicalContext): unknown[] {
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

export function canonicalHealthcheck(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
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

export function canonicalDeploy(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
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

export function toDevices(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item, i) => {
    if (typeof item !== 'string') return item;
    const parts = item.split(':');
    if (parts.length > 3 || parts[0] === '')
      fail(ctx, [...path, i], `invalid device ${JSON.stringify(item)} (expected SOURCE[:TARGET[:PERMISSIONS]])`);
    return { source: parts[0], target: parts[1] ?? parts[0], permissions: parts[2] ?? 'rwm' };
  });
}

/**
 * A service's `networks`: a list becomes a mapping; each network's `aliases` a list, `driver_opts` a mapping, and
 * `priority` / `gw_priority` integers (compose-go's `int`s; a string from interpolation read as one).
 */
export function toServiceNetworks(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (Array.isArray(value)) return Object.fromEntries(value.map((n) => [String(n), null]));
  if (!isPlainObject(value)) return value;
  const out: Obj = {};
  for (const [name, cfg] of Object.entries(value)) {
    out[name] = tagged(cfg, (c) => {
      if (!isPlainObject(c)) return null;
      const cc: Obj = { ...c };
      if ('aliases' in cc) cc.aliases = toStringList(cc.aliases);
      if ('driver_opts' in cc) cc.driver_opts = toMapping(cc.driver_opts, '');
      for (const k of ['priority', 'gw_priority'])
        if (k in cc) cc[k] = tagged(cc[k], (x) => (x === null || x === undefined ? x : toInt(x, ctx, [...path, name, k])));
      return cc;
    });
  }
  return out;
}

/**
 * `post_start` / `pre_stop` (compose-go `types.ServiceHook`): each hook's `command` split as `command:` is, its
 * `environment` a mapping (a key without value stays null, as compose-go leaves it), `privileged` given as a
 * string read as a boolean. Anything else is left for the schema's error.
 */
export function toHooks(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((hook, i) => {
    if (!isPlainObject(hook)) return hook;
    const out: Obj = { ...hook };
    if (hook.command !== undefined) out.command = tagged(hook.command, (v) => toCommand(v, ctx, [...path, i, 'command']));
    if (hook.environment !== undefined) out.environment = tagged(hook.environment, (v) => toMapping(v, null));
    if (hook.privileged === 'true' || hook.privileged === 'false') out.privileged = hook.privileged === 'true';
    return out;
  });
}

/** Canonical form of service volumes: the short syntax `[SOURCE:]TARGET[:MODE]` → long form; paths made absolute. */
import { posix } from 'node:path';
import { absPath, fail, toBytes, type CanonicalContext, type Obj } from './canonical-values.js';
import { isPlainObject, type PathSeg } from './yaml.js';

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

export function toServiceVolumes(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
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

/**
 * Merging files (and `extends` bases) in canonical form, by the Compose Specification's rules:
 * mappings merge recursively and later scalars win; sequences append (duplicates dropped), except
 * `command`, `entrypoint`, `healthcheck.test` and model `runtime_flags`, which are replaced; volumes,
 * secrets, configs and devices are unique by target, ports by (host ip, target, published, protocol),
 * links by name, env files by path, IPAM pools by subnet; a `logging` driver change drops the old options;
 * each ulimit is replaced whole. `!reset` drops the inherited value, `!override` replaces it.
 */
import { Tagged, isPlainObject } from './yaml.js';

type Obj = Record<string, unknown>;
type Indexer = (item: unknown) => string;
/** How an item meets the item with the same key: replaced whole, or merged with it (IPAM pools). */
type Combine = 'replace' | 'merge';

const json = (v: unknown): string => JSON.stringify(v);

const byTarget =
  (defaultPrefix: string): Indexer =>
  (item) => {
    if (!isPlainObject(item)) return json(item);
    if (typeof item.target === 'string') return item.target.startsWith('/') || defaultPrefix === '' ? item.target : defaultPrefix + item.target;
    return defaultPrefix + String(item.source);
  };

const INDEXERS: [RegExp, Indexer, Combine?][] = [
  [/^services\.[^.]+\.volumes$/, byTarget('')],
  [/^services\.[^.]+\.(build\.)?secrets$/, byTarget('/run/secrets/')],
  [/^services\.[^.]+\.configs$/, byTarget('/')],
  [/^services\.[^.]+\.devices$/, (d) => (isPlainObject(d) ? String(d.target ?? d.source) : json(d))],
  [
    /^services\.[^.]+\.ports$/,
    (p) => (isPlainObject(p) ? json([p.host_ip ?? '', p.target, p.published ?? '', p.protocol ?? 'tcp', p.mode ?? 'ingress']) : json(p)),
  ],
  [/^services\.[^.]+\.(external_)?links$/, (l) => String(l).split('=')[0]!],
  [/^services\.[^.]+\.env_file$/, (e) => (isPlainObject(e) ? String(e.path) : String(e))],
  [/^networks\.[^.]+\.ipam\.config$/, (c) => (isPlainObject(c) && c.subnet !== undefined ? String(c.subnet) : json(c)), 'merge'],
];

const REPLACED = [
  /^services\.[^.]+\.(command|entrypoint)$/,
  /^services\.[^.]+\.healthcheck\.test$/,
  /^services\.[^.]+\.ulimits\.[^.]+$/,
  /^services\.[^.]+\.build\.ulimits\.[^.]+$/,
  /^models\.[^.]+\.runtime_flags$/,
];

/** Merges `over` onto `base` (both canonical documents or fragments); `path` names where they sit. */
export function mergeValue(base: unknown, over: unknown, path: readonly string[] = []): unknown {
  if (over instanceof Tagged) return over.tag === 'reset' ? resetValue(over.value) : over.value;
  if (base instanceof Tagged) base = base.value;
  if (over === undefined) return base;
  if (over === null) return isPlainObject(base) ? base : over;
  const p = path.join('.');
  if (base === undefined || base === null) return over;
  if (REPLACED.some((re) => re.test(p))) return over;
  if (isPlainObject(base) && isPlainObject(over)) {
    if (/^services\.[^.]+\.logging$/.test(p) && base.driver !== undefined && over.driver !== undefined && base.driver !== over.driver) return over;
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const merged = mergeValue(out[k], v, [...path, k]);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) {
    const rule = INDEXERS.find(([re]) => re.test(p));
    return rule ? mergeIndexed(base, over, rule[1], rule[2] ?? 'replace', path) : appendUnique(base, over);
  }
  return over;
}

/** `!reset` gives the value it carries (`!reset []`), or removes the key (`!reset null`). */
function resetValue(v: unknown): unknown {
  return v === null ? undefined : v;
}

function mergeIndexed(base: unknown[], over: unknown[], indexer: Indexer, combine: Combine, path: readonly string[]): unknown[] {
  const out = [...base];
  const at = new Map<string, number>();
  out.forEach((item, i) => at.set(indexer(item), i));
  for (const item of over) {
    const key = indexer(item);
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.length);
      out.push(item);
    } else out[i] = combine === 'merge' ? mergeValue(out[i], item, [...path, String(i)]) : item;
  }
  return out;
}

function appendUnique(base: unknown[], over: unknown[]): unknown[] {
  const seen = new Set(base.map(json));
  const out = [...base];
  for (const item of over) {
    const k = json(item);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(item);
    }
  }
  return out;
}

/** Removes remaining Tagged markers (a single file's own `!reset`/`!override`), recursively. */
export function untag(value: unknown): unknown {
  if (value instanceof Tagged) return value.tag === 'reset' ? resetValue(value.value === null ? null : untag(value.value)) : untag(value.value);
  if (Array.isArray(value)) return value.map(untag);
  if (isPlainObject(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) {
      const u = untag(v);
      if (u !== undefined) out[k] = u;
    }
    return out;
  }
  return value;
}

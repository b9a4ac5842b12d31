/**
 * The conversions every section of the canonical form shares: mappings (`K=V` lists and maps), string lists,
 * commands, durations, byte sizes, numbers, file modes and paths; `fail` reports a bad value at its path.
 */
import { isAbsolute, posix, resolve as resolvePath } from 'node:path';
import { ConfigError } from '../errors.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { parseBytes } from '../util/bytes.js';
import { splitShellWords } from '../util/shell-words.js';
import { Tagged, formatPath, isPlainObject, type ParsedYaml, type PathSeg } from './yaml.js';

export interface CanonicalContext {
  /** Directory relative paths of this file resolve against. */
  readonly baseDir: string;
  /** Home directory for `~` (from the HOME variable of the environment). */
  readonly home: string;
  readonly source: Pick<ParsedYaml, 'file' | 'locate'>;
  /** false: paths are kept as written (`config --no-path-resolution`, compose-go's ResolvePaths off). */
  readonly resolvePaths?: boolean;
}

export type Obj = Record<string, unknown>;
export type Transform = (value: unknown, ctx: CanonicalContext, path: PathSeg[]) => unknown;

/** Runs `fn` on a value, or on the inner value of a Tagged marker (re-wrapping it). */
export function tagged(value: unknown, fn: (v: unknown) => unknown): unknown {
  if (value instanceof Tagged) return new Tagged(value.tag, value.value === null || value.value === undefined ? null : fn(value.value));
  return fn(value);
}

export function fail(ctx: CanonicalContext, path: PathSeg[], detail: string): never {
  throw new ConfigError('TSC_INVALID_VALUE', `${formatPath(path)}: ${detail}`, ctx.source.locate(path));
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

export function withMapping(obj: Obj, key: string, missing: string | null): Obj {
  return key in obj ? { ...obj, [key]: toMapping(obj[key], missing) } : { ...obj };
}

export function toStringList(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

export function toCommand(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((v) => String(v));
  try {
    return splitShellWords(String(value));
  } catch (e) {
    fail(ctx, path, (e as Error).message);
  }
}

export function toDuration(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (value === null || value === undefined) return value;
  const ns = parseDuration(value as string | number);
  if (ns === undefined) fail(ctx, path, `invalid duration ${JSON.stringify(value)} (expected e.g. 10s, 1m30s, 500ms)`);
  return formatDuration(ns);
}

export function toBytes(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (value === null || value === undefined) return value;
  const n = parseBytes(value as string | number);
  if (n === undefined) fail(ctx, path, `invalid size ${JSON.stringify(value)} (expected e.g. 512m, 1g, 1024)`);
  // Beyond 2^53-1 bytes (8 PiB) a number is not exact (it would print as 1e+20): refused, as Go's int64 overflows.
  if (!Number.isSafeInteger(n))
    fail(ctx, path, `size ${JSON.stringify(value)} is too large (at most ${Number.MAX_SAFE_INTEGER} bytes; a larger number is not exact)`);
  return String(n);
}

export function toFloat(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (typeof value === 'number' || value === null || value === undefined) return value;
  const n = Number(value);
  if (!Number.isFinite(n)) fail(ctx, path, `invalid number ${JSON.stringify(value)}`);
  return n;
}

export function toInt(value: unknown, ctx: CanonicalContext, path: PathSeg[]): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) fail(ctx, path, `invalid integer ${JSON.stringify(value)}`);
  return n;
}

/** Expands `~` and makes a path absolute. */
export function absPath(p: string, ctx: Pick<CanonicalContext, 'baseDir' | 'home' | 'resolvePaths'>): string {
  if (ctx.resolvePaths === false) return p;
  if (p === '~' || p.startsWith('~/')) return posix.join(ctx.home, p.slice(1));
  return isAbsolute(p) ? posix.normalize(p) : resolvePath(ctx.baseDir, p);
}

/** File modes: numbers are the value (YAML `0440` is already octal), strings are octal text. → "0440". */
export function toOctalMode(value: unknown, ctx: CanonicalContext, path: PathSeg[]): string {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^(0o?)?[0-7]+$/i.test(value.trim())) n = parseInt(value.trim().replace(/^0o/i, ''), 8);
  else fail(ctx, path, `invalid file mode ${JSON.stringify(value)} (expected octal, e.g. 0440)`);
  return '0' + n.toString(8);
}

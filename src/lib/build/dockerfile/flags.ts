/**
 * Instruction flags as BuildKit's BFlags (frontend/dockerfile/instructions/bflag.go): `--name=value` strings,
 * `--name` / `--name=true|false` booleans, repeatable string lists (`--mount`, `--exclude`); an unknown flag,
 * a duplicate of a non-list flag, or a string flag without `=` is an error. Also Go's time.ParseDuration for
 * HEALTHCHECK's intervals.
 */
import { parseDuration } from '../../../util/duration.js';

export type FlagType = 'string' | 'bool' | 'strings';

export interface ParsedFlags {
  readonly strings: ReadonlyMap<string, string>;
  readonly bools: ReadonlyMap<string, boolean>;
  readonly lists: ReadonlyMap<string, readonly string[]>;
}

/** Parses `flags` (each with its `--`) against `spec`; throws an Error with BuildKit's message. */
export function parseFlags(flags: readonly string[], spec: Readonly<Record<string, FlagType>>): ParsedFlags {
  const strings = new Map<string, string>();
  const bools = new Map<string, boolean>();
  const lists = new Map<string, string[]>();
  const used = new Set<string>();
  for (const word of flags) {
    if (!word.startsWith('--')) throw new Error(`arg should start with -- : ${word}`);
    if (word === '--') break;
    const body = word.slice(2);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const value = eq >= 0 ? body.slice(eq + 1) : '';
    const type = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (type === undefined) throw new Error(`unknown flag: ${name}`);
    if (used.has(name) && type !== 'strings') throw new Error(`duplicate flag specified: ${name}`);
    used.add(name);
    if (type === 'bool') {
      if (eq >= 0 && value === '') throw new Error(`missing a value on flag: ${name}`);
      const lower = value.toLowerCase();
      if (lower !== '' && lower !== 'true' && lower !== 'false') {
        throw new Error(`expecting boolean value for flag ${name}, not: ${value}`);
      }
      bools.set(name, lower !== 'false');
    } else {
      if (eq < 0) throw new Error(`missing a value on flag: ${name}`);
      if (type === 'string') strings.set(name, value);
      else lists.set(name, [...(lists.get(name) ?? []), value]);
    }
  }
  return { strings, bools, lists };
}

/** Go's time.ParseDuration ("1h30m", "1.5s", "300ms", "0") in nanoseconds (src/util/duration.ts); throws with Go's message otherwise. */
export function parseGoDuration(s: string): number {
  const ns = s.trim() === s ? parseDuration(s) : undefined;
  if (ns !== undefined) return ns;
  throw new Error(/^[+-]?[\d.]+$/.test(s) ? `time: missing unit in duration "${s}"` : `time: invalid duration "${s}"`);
}

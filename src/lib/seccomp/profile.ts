/**
 * A seccomp profile file in Docker's format read into a typed SeccompProfile (what `--security-opt seccomp=FILE`
 * accepts: moby `profiles/seccomp` Seccomp). Fields are checked for their types as Go's JSON decoding would (unknown
 * fields are ignored), so that a wrong profile fails when it is read, naming where it came from, not in the OCI
 * runtime. Pure.
 */
import { SeccompProfileError } from './errors.js';
import type { SeccompArchMapEntry, SeccompArg, SeccompFilter, SeccompProfile, SeccompRule } from './types.js';

type Json = Record<string, unknown>;

class Reader {
  constructor(private readonly source: string) {}

  fail(where: string, what: string): never {
    throw new SeccompProfileError(`seccomp profile ${this.source}: ${where}: ${what}`, {
      hint: "a profile in Docker's format: {defaultAction, architectures|archMap, syscalls: [{names, action, …}]}",
    });
  }

  object(v: unknown, where: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where, 'expected an object');
    return v as Json;
  }

  string(v: unknown, where: string): string {
    if (typeof v !== 'string') this.fail(where, 'expected a string');
    return v;
  }

  number(v: unknown, where: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(where, 'expected a non-negative integer');
    return v;
  }

  strings(v: unknown, where: string): string[] {
    if (!Array.isArray(v)) this.fail(where, 'expected a list of strings');
    return v.map((x, i) => this.string(x, `${where}[${i}]`));
  }

  list<T>(v: unknown, where: string, item: (x: unknown, at: string) => T): T[] {
    if (!Array.isArray(v)) this.fail(where, 'expected a list');
    return v.map((x, i) => item(x, `${where}[${i}]`));
  }
}

/** Puts `key` of `o` into `out` through `read` when it is present and not null (Go's decoding skips null). */
function opt<T>(out: Record<string, unknown>, o: Json, key: string, read: (v: unknown) => T): void {
  if (o[key] !== undefined && o[key] !== null) out[key] = read(o[key]);
}

function filter(r: Reader, v: unknown, at: string): SeccompFilter {
  const o = r.object(v, at);
  const f: Record<string, unknown> = {};
  opt(f, o, 'caps', (x) => r.strings(x, `${at}.caps`));
  opt(f, o, 'arches', (x) => r.strings(x, `${at}.arches`));
  opt(f, o, 'minKernel', (x) => {
    const s = r.string(x, `${at}.minKernel`);
    if (s !== '' && !/^\d+\.\d+$/.test(s)) r.fail(`${at}.minKernel`, `invalid kernel version "${s}", expected "<kernel>.<major>"`);
    return s;
  });
  return f as SeccompFilter;
}

function arg(r: Reader, v: unknown, at: string): SeccompArg {
  const o = r.object(v, at);
  const a: Record<string, unknown> = { index: r.number(o.index ?? 0, `${at}.index`), value: r.number(o.value ?? 0, `${at}.value`) };
  opt(a, o, 'valueTwo', (x) => r.number(x, `${at}.valueTwo`));
  a.op = r.string(o.op, `${at}.op`);
  return a as unknown as SeccompArg;
}

function rule(r: Reader, v: unknown, at: string): SeccompRule {
  const o = r.object(v, at);
  const s: Record<string, unknown> = {};
  opt(s, o, 'names', (x) => r.strings(x, `${at}.names`));
  opt(s, o, 'name', (x) => r.string(x, `${at}.name`));
  s.action = r.string(o.action, `${at}.action`);
  opt(s, o, 'errnoRet', (x) => r.number(x, `${at}.errnoRet`));
  opt(s, o, 'args', (x) => r.list(x, `${at}.args`, (y, a) => arg(r, y, a)));
  opt(s, o, 'comment', (x) => r.string(x, `${at}.comment`));
  opt(s, o, 'includes', (x) => filter(r, x, `${at}.includes`));
  opt(s, o, 'excludes', (x) => filter(r, x, `${at}.excludes`));
  return s as unknown as SeccompRule;
}

function archMapEntry(r: Reader, v: unknown, at: string): SeccompArchMapEntry {
  const o = r.object(v, at);
  const sub = o.subArchitectures;
  return {
    architecture: r.string(o.architecture, `${at}.architecture`),
    subArchitectures: sub === undefined || sub === null ? null : r.strings(sub, `${at}.subArchitectures`),
  };
}

/** A profile from a parsed JSON value; `source` names it in errors (a file path). */
export function seccompProfileFrom(value: unknown, source: string): SeccompProfile {
  const r = new Reader(source);
  const o = r.object(value, 'the profile');
  const p: Record<string, unknown> = { defaultAction: o.defaultAction === undefined ? '' : r.string(o.defaultAction, 'defaultAction') };
  opt(p, o, 'defaultErrnoRet', (x) => r.number(x, 'defaultErrnoRet'));
  opt(p, o, 'architectures', (x) => r.strings(x, 'architectures'));
  opt(p, o, 'archMap', (x) => r.list(x, 'archMap', (y, at) => archMapEntry(r, y, at)));
  opt(p, o, 'flags', (x) => r.strings(x, 'flags'));
  opt(p, o, 'listenerPath', (x) => r.string(x, 'listenerPath'));
  opt(p, o, 'listenerMetadata', (x) => r.string(x, 'listenerMetadata'));
  opt(p, o, 'syscalls', (x) => r.list(x, 'syscalls', (y, at) => rule(r, y, at)));
  return p as unknown as SeccompProfile;
}

/** A profile from the text of a file; `source` names it in errors. SeccompProfileError when it is not valid. */
export function parseSeccompProfile(text: string, source: string): SeccompProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SeccompProfileError(`seccomp profile ${source}: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return seccompProfileFrom(value, source);
}

/**
 * The compose fields that become the container's `process` (Docker's rules): its arguments, environment,
 * capabilities and rlimits (no-new-privileges, seccomp and AppArmor: SecuritySpec, ./seccomp.ts). Pure but for
 * currentCapabilities (reads /proc/self/status once); invalid input throws TsComposeError.
 */
import { readFileSync } from 'node:fs';
import { TsComposeError } from '../../../errors.js';
import type { ContainerSpec } from '../../runtime.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, DEFAULT_PATH_ENV } from './defaults.js';
import type { ImageRunConfig, OciRlimit } from './spec-types.js';

function noCommand(): TsComposeError {
  return new TsComposeError('TSC_NO_COMMAND', 'no command specified', {
    hint: 'set `command:` (or `entrypoint:`) for the service; the image defines neither Entrypoint nor Cmd',
  });
}

/**
 * `process.args` from compose and image (Docker's rules): compose `entrypoint` (set, even empty) replaces the image
 * Entrypoint and then the image Cmd is ignored; a non-empty compose `command` replaces the image Cmd (an empty one
 * counts as unset, as in Docker). TsComposeError `TSC_NO_COMMAND` when nothing is left.
 */
export function mergeArgs(spec: Pick<ContainerSpec, 'entrypoint' | 'command'>, image: Pick<ImageRunConfig, 'Entrypoint' | 'Cmd'>): string[] {
  // `entrypoint: ""` arrives as [''] from some front ends: that means "no entrypoint".
  const specEntrypoint = spec.entrypoint && spec.entrypoint.length === 1 && spec.entrypoint[0] === '' ? [] : spec.entrypoint;
  const command = spec.command && spec.command.length > 0 ? spec.command : undefined;
  let entrypoint: readonly string[];
  let cmd: readonly string[];
  if (specEntrypoint !== undefined) {
    entrypoint = specEntrypoint;
    cmd = command ?? [];
  } else {
    entrypoint = image.Entrypoint ?? [];
    cmd = command ?? image.Cmd ?? [];
  }
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw noCommand();
  return args;
}

/** The key of a `KEY=value` entry. */
export function envKey(e: string): string {
  const i = e.indexOf('=');
  return i === -1 ? e : e.slice(0, i);
}

/**
 * Docker's `ReplaceOrAppendEnvValues`: each override replaces the entry with the same key in place, or is appended;
 * an override without `=` removes the key.
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const index = new Map<string, number>();
  out.forEach((e, i) => index.set(envKey(e as string), i));
  for (const o of overrides) {
    const key = envKey(o);
    const i = index.get(key);
    if (!o.includes('=')) {
      if (i !== undefined) out[i] = undefined;
      continue;
    }
    if (i !== undefined && out[i] !== undefined) out[i] = o;
    else {
      index.set(key, out.length);
      out.push(o);
    }
  }
  return out.filter((e): e is string => e !== undefined);
}

/**
 * `process.env` as Docker builds it (moby `CreateDaemonEnvironment`): `PATH` (default), `HOSTNAME` and with a TTY
 * `TERM=xterm` first, then the compose environment, then the image Env entries compose did not set; each replacing
 * an earlier entry with the same key in place.
 */
export function mergeEnv(
  imageEnv: readonly string[] | null | undefined,
  specEnv: readonly string[] | undefined,
  hostname: string,
  tty = false,
): string[] {
  const user = [...(specEnv ?? [])];
  const userKeys = new Set(user.map(envKey));
  const config = [...user, ...(imageEnv ?? []).filter((e) => !userKeys.has(envKey(e)))];
  return replaceOrAppendEnv([`PATH=${DEFAULT_PATH_ENV}`, `HOSTNAME=${hostname}`, ...(tty ? [TTY_TERM] : [])], config);
}

/** What Docker sets `TERM` to in a container or exec with a TTY (unless its environment sets it). */
export const TTY_TERM = 'TERM=xterm';

/**
 * An exec's environment with a TTY (moby: the exec's is the daemon's for a TTY, then the container's): `TERM=xterm`
 * after `HOSTNAME` unless the container's environment has a `TERM`.
 */
export function withTtyTerm(env: readonly string[]): string[] {
  if (env.some((e) => envKey(e) === 'TERM')) return [...env];
  const at = env.findIndex((e) => envKey(e) === 'HOSTNAME') + 1;
  return [...env.slice(0, at), TTY_TERM, ...env.slice(at)];
}

function unknownCapability(c: string): TsComposeError {
  return new TsComposeError('TSC_UNKNOWN_CAPABILITY', `unknown capability: "${c}"`);
}

/** `net_admin`, `NET_ADMIN`, `cap_net_admin` → `CAP_NET_ADMIN`; `all` → `ALL`. */
export function normalizeCapability(c: string): string {
  const up = c.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!ALL_CAPABILITIES.includes(name)) throw unknownCapability(c);
  return name;
}

/**
 * moby `TweakCapabilities`: privileged → all; `cap_add: [ALL]` → all minus drops; `cap_drop: [ALL]` → only adds.
 * "All" is `available`: as moby, the capabilities the runtime's own process has (currentCapabilities), which a
 * sandbox may have reduced; adding one outside them is an error (TSC_CAPABILITY_UNAVAILABLE), as Docker's.
 */
export function computeCapabilities(
  capAdd: readonly string[] = [],
  capDrop: readonly string[] = [],
  privileged = false,
  available: readonly string[] = ALL_CAPABILITIES,
): string[] {
  if (privileged) return [...available];
  if (capAdd.length === 0 && capDrop.length === 0) return [...DEFAULT_CAPABILITIES];
  const adds = capAdd.map(normalizeCapability);
  const drops = capDrop.map(normalizeCapability);
  const missing = adds.find((c) => c !== 'ALL' && !available.includes(c));
  if (missing !== undefined) {
    throw new TsComposeError(
      'TSC_CAPABILITY_UNAVAILABLE',
      `capability not supported by your kernel or not available in the current environment: "${missing}"`,
    );
  }
  let caps: string[];
  if (adds.includes('ALL')) caps = available.filter((c) => !drops.includes(c));
  else if (drops.includes('ALL')) caps = adds;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)), ...adds];
  return [...new Set(caps)];
}

/** The capabilities of a mask as /proc/<pid>/status prints it (`CapEff:\t000001ffffffffff`; bit n = capability n). */
export function capabilitiesOfMask(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim() || '0'}`);
  return ALL_CAPABILITIES.filter((_c, i) => (mask >> BigInt(i)) & 1n);
}

let current: readonly string[] | undefined;

/**
 * The effective capabilities of this process (moby: containerd's cap.Current), read once: what privileged
 * containers and `cap_add: [ALL]` get. Every known one when /proc cannot be read.
 */
export function currentCapabilities(): readonly string[] {
  if (current) return current;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    current = m ? capabilitiesOfMask(m[1]!) : ALL_CAPABILITIES;
  } catch {
    current = ALL_CAPABILITIES;
  }
  return current;
}

const ULIMIT_NAMES = new Set([
  'as',
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

/**
 * RLIM_INFINITY (2^64 − 1) as runc reads it. A JS number cannot hold it: this is 2^64, which `ociSpecToJson`
 * writes as 18446744073709551615 (plain JSON.stringify would write 18446744073709552000, which overflows uint64).
 */
export const RLIM_INFINITY = 2 ** 64;

/** `nofile` → `RLIMIT_NOFILE`; -1 = unlimited; unknown names → TsComposeError `TSC_INVALID_ULIMIT`. */
export function rlimitsOf(ulimits: ContainerSpec['ulimits']): OciRlimit[] | undefined {
  if (!ulimits || ulimits.length === 0) return undefined;
  return ulimits.map((u) => {
    const name = u.name
      .trim()
      .toLowerCase()
      .replace(/^rlimit_/, '');
    if (!ULIMIT_NAMES.has(name)) throw new TsComposeError('TSC_INVALID_ULIMIT', `invalid ulimit type: ${u.name}`);
    const v = (n: number): number => (n < 0 ? RLIM_INFINITY : n);
    const soft = v(u.soft);
    const hard = v(u.hard);
    if (soft > hard) {
      throw new TsComposeError('TSC_INVALID_ULIMIT', `ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
    }
    return { type: `RLIMIT_${name.toUpperCase()}`, hard, soft };
  });
}

/**
 * Phase 2b: after interpolation, strings at typed paths become numbers or booleans, as compose-go
 * `loader/interpolate.go` (`interpolateTypeCastMapping`) does, so that `privileged: ${PRIV:-false}` or
 * `replicas: "${N}"` load as `false` / `3`. Only strings are touched (a YAML `true` or `3` is already typed).
 *
 * compose-go fails the load when a string at a typed path does not convert
 * (`error while interpolating services.web.privileged: failed to cast to expected type: invalid boolean: foo`).
 * By default such values are left as they are, for schema validation to report (`onError` hears of each, for the
 * loader to report them with the file's schema errors in one go); pass `strict` to get compose-go's error instead.
 */
import { InterpolationError } from '../errors.js';
import { goQuote } from './interpolate.js';
import { formatPath, mapStrings, type ParsedYaml, type PathSeg } from './yaml.js';

export interface CastOptions {
  /** compose-go warns for YAML 1.1 booleans (`yes`, `on`, `n`, …). */
  readonly onWarning?: (msg: string) => void;
  /** Throw compose-go's error (with this source's position) for a value that does not convert. */
  readonly strict?: Pick<ParsedYaml, 'file' | 'locate'>;
  /** Told of each value that does not convert (left as it is), so that all of a file's errors are reported at once. */
  readonly onError?: (path: readonly PathSeg[], error: string) => void;
}

export type CastResult = { ok: true; value: number | boolean } | { ok: false; error: string };
export type Caster = (value: string, warn: (msg: string) => void) => CastResult;

/** `*` matches any map key or list item; `[]` matches list items only. */
type Pattern = readonly string[];

const toInt: Caster = (s) => parseGoInt(s);
const toInt64: Caster = (s) => parseGoInt(s);
const toFloat: Caster = (s) => parseGoFloat(s, 64);
const toFloat32: Caster = (s) => parseGoFloat(s, 32);

const service = (...parts: string[]): Pattern => ['services', '*', ...parts];

/** compose-go `interpolateTypeCastMapping`. */
export const TYPE_CASTS: readonly (readonly [Pattern, Caster])[] = [
  [service('cpu_count'), toInt64],
  [service('cpu_percent'), toFloat],
  [service('cpu_period'), toInt64],
  [service('cpu_quota'), toInt64],
  [service('cpu_rt_period'), toInt64],
  [service('cpu_rt_runtime'), toInt64],
  [service('cpus'), toFloat32],
  [service('cpu_shares'), toInt64],
  [service('init'), toBoolean],
  [service('depends_on', '*', 'required'), toBoolean],
  [service('depends_on', '*', 'restart'), toBoolean],
  [service('deploy', 'replicas'), toInt],
  [service('deploy', 'update_config', 'parallelism'), toInt],
  [service('deploy', 'update_config', 'max_failure_ratio'), toFloat],
  [service('deploy', 'rollback_config', 'parallelism'), toInt],
  [service('deploy', 'rollback_config', 'max_failure_ratio'), toFloat],
  [service('deploy', 'restart_policy', 'max_attempts'), toInt],
  [service('deploy', 'placement', 'max_replicas_per_node'), toInt],
  [service('healthcheck', 'retries'), toInt],
  [service('healthcheck', 'disable'), toBoolean],
  [service('oom_kill_disable'), toBoolean],
  [service('oom_score_adj'), toInt64],
  [service('pids_limit'), toInt64],
  [service('ports', '[]', 'target'), toInt],
  [service('privileged'), toBoolean],
  [service('read_only'), toBoolean],
  [service('scale'), toInt],
  [service('stdin_open'), toBoolean],
  [service('tty'), toBoolean],
  [service('ulimits', '*'), toInt],
  [service('ulimits', '*', 'hard'), toInt],
  [service('ulimits', '*', 'soft'), toInt],
  [service('volumes', '[]', 'read_only'), toBoolean],
  [service('volumes', '[]', 'volume', 'nocopy'), toBoolean],
  [['networks', '*', 'external'], toBoolean],
  [['networks', '*', 'internal'], toBoolean],
  [['networks', '*', 'attachable'], toBoolean],
  [['networks', '*', 'enable_ipv4'], toBoolean],
  [['networks', '*', 'enable_ipv6'], toBoolean],
  [['volumes', '*', 'external'], toBoolean],
  [['secrets', '*', 'external'], toBoolean],
  [['configs', '*', 'external'], toBoolean],
];

/** Converts strings at typed paths (Tagged markers kept); `data` is not modified, what did not change is shared with it. */
export function castTypes(data: unknown, options: CastOptions = {}): unknown {
  const warn = options.onWarning ?? (() => {});
  return mapStrings(data, (value, path) => {
    const caster = casterFor(path);
    if (!caster) return value;
    const result = caster(value, warn);
    if (result.ok) return result.value;
    if (options.strict) throw new InterpolationError(`${formatPath(path)}: ${result.error}`, options.strict.locate(path));
    options.onError?.([...path], result.error);
    return value;
  });
}

function casterFor(path: readonly PathSeg[]): Caster | undefined {
  for (const [pattern, caster] of TYPE_CASTS) if (matches(path, pattern)) return caster;
  return undefined;
}

function matches(path: readonly PathSeg[], pattern: Pattern): boolean {
  if (path.length !== pattern.length) return false;
  return pattern.every((p, i) => {
    const seg = path[i]!;
    if (p === '*') return true;
    if (p === '[]') return typeof seg === 'number';
    return typeof seg === 'string' && seg === p;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Go strconv equivalents.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** `strconv.Atoi` / `strconv.ParseInt(s, 10, 64)`: optional sign, ASCII digits, int64 range. */
export function parseGoInt(s: string): CastResult {
  if (!/^[+-]?[0-9]+$/.test(s)) return { ok: false, error: `${goQuote(s)} is not an integer` };
  const big = BigInt(s);
  if (big < INT64_MIN || big > INT64_MAX) return { ok: false, error: `integer ${goQuote(s)} is out of range` };
  const n = Number(big);
  // Within Go's int64 but not exact as a JavaScript number: refused rather than rounded.
  if (!Number.isSafeInteger(n))
    return {
      ok: false,
      error: `integer ${goQuote(s)} is out of range (at most ${Number.MAX_SAFE_INTEGER} in size, beyond it a number is not exact)`,
    };
  return { ok: true, value: n === 0 ? 0 : n };
}

/**
 * `strconv.ParseFloat(s, 64|32)` for decimal notation (`1`, `-1.5`, `.5`, `2.`, `1e3`). Go also accepts
 * `inf`, `nan` and hex floats; those are reported as unconvertible here (they make no sense in a compose file).
 */
export function parseGoFloat(s: string, bits: 32 | 64): CastResult {
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) return { ok: false, error: `${goQuote(s)} is not a number` };
  const n = Number(s);
  if (!Number.isFinite(n) || (bits === 32 && !Number.isFinite(Math.fround(n)))) return { ok: false, error: `number ${goQuote(s)} is out of range` };
  return { ok: true, value: n === 0 ? 0 : n };
}

/** compose-go `toBoolean`: `true`/`false` in any case; YAML 1.1 `y`/`yes`/`on`/`n`/`no`/`off` with a warning. */
export function toBoolean(s: string, warn: (msg: string) => void = () => {}): CastResult {
  switch (s.toLowerCase()) {
    case 'true':
      return { ok: true, value: true };
    case 'false':
      return { ok: true, value: false };
    case 'y':
    case 'yes':
    case 'on':
      warn(`${goQuote(s)} for boolean is not supported by YAML 1.2, please use \`true\``);
      return { ok: true, value: true };
    case 'n':
    case 'no':
    case 'off':
      warn(`${goQuote(s)} for boolean is not supported by YAML 1.2, please use \`false\``);
      return { ok: true, value: false };
    default:
      return { ok: false, error: `${goQuote(s)} is not a boolean (expected true or false)` };
  }
}

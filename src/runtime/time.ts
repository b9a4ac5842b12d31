/** Time arguments of `logs --since/--until` and `events --since/--until`, as docker compose accepts them. */

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go-style duration (`10m`, `1h30m`, `1.5s`) in milliseconds, or undefined when `s` is not one. */
export function parseGoDuration(s: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched > 0 && matched === s.length ? total : undefined;
}

/**
 * Unix seconds (fractional) for a number (already unix seconds), a numeric string, an RFC 3339 timestamp or date,
 * or a duration before `now` (`10m` = ten minutes ago). Throws TypeError for anything else.
 */
export function toUnixSeconds(t: number | string, now: number = Date.now()): number {
  if (typeof t === 'number') return t;
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const d = parseGoDuration(t);
  if (d !== undefined) return (now - d) / 1000;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new TypeError(`not a timestamp or duration: ${t}`);
  return ms / 1000;
}

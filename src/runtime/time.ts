/** Time arguments of `logs --since/--until` and `events --since/--until`, as docker compose accepts them. */
import { parseDuration } from '../util/duration.js';

/** A Go-style duration (`10m`, `1h30m`, `1.5s`) in milliseconds, or undefined when `s` is not one (unsigned, unpadded). */
export function parseGoDuration(s: string): number | undefined {
  if (!/^[\d.]/.test(s) || s.trim() !== s) return undefined;
  const ns = parseDuration(s);
  return ns === undefined ? undefined : ns / 1e6;
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

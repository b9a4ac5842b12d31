/**
 * Go `time.Duration` parsing and formatting, as compose-go uses for healthcheck intervals, stop_grace_period, …
 * Durations are kept in nanoseconds (as a number: exact up to ~104 days, far beyond any compose timeout).
 */
const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Parses `1m30s`, `500ms`, `1.5h`, `-2s`, `0`. Plain numbers (YAML ints) are seconds. Returns undefined if invalid. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input * 1e9 : undefined;
  let s = input.trim();
  if (s === '') return undefined;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += parseFloat(m[1]!) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return sign * Math.round(total);
}

/** Formats nanoseconds as Go's Duration.String(): `1m0s`, `1h2m3.5s`, `500ms`, `0s`. */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(Math.round(ns));
  let out: string;
  if (u < 1e9) {
    // Sub-second: use the largest unit that keeps an integer part.
    if (u < 1e3) out = `${u}ns`;
    else if (u < 1e6) out = `${trimFrac(u / 1e3)}µs`;
    else out = `${trimFrac(u / 1e6)}ms`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const sec = `${trimFrac(u / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? `-${out}` : out;
}

function trimFrac(n: number): string {
  // Up to 9 fractional digits, trailing zeros dropped (Go prints the exact value).
  return n.toFixed(9).replace(/\.?0+$/, '');
}

/**
 * IP address literals, as `node:net`'s isIPv4/isIPv6/isIP accept them (IPv6 with `::`, a trailing dotted IPv4
 * and a `%zone`), checked without a regular expression. Node's IPv6 expression costs ~4–8 ms to compile at its
 * first use in a process, which every native `up` and `down` paid (DNS upstreams and records are checked on each
 * refresh); these cost microseconds. ip-literal.test.ts checks them against `node:net` on generated inputs.
 */

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** Dotted-quad IPv4, each part 0–255 without leading zeros (as node:net). */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p.charCodeAt(0) === 48)) return false;
    for (let i = 0; i < p.length; i++) if (!isDigit(p.charCodeAt(i))) return false;
    if (Number(p) > 255) return false;
  }
  return true;
}

/** 1–4 hex digits. */
function isGroup(g: string): boolean {
  if (g.length === 0 || g.length > 4) return false;
  for (let i = 0; i < g.length; i++) if (!isHex(g.charCodeAt(i))) return false;
  return true;
}

/** The number of 16-bit groups `groups` stand for (a last dotted IPv4 counts two), or -1 when one is invalid. */
function groupCount(groups: readonly string[], lastMayBeV4: boolean): number {
  let n = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (lastMayBeV4 && i === groups.length - 1 && g.includes('.')) {
      if (!isIPv4(g)) return -1;
      n += 2;
    } else if (isGroup(g)) n += 1;
    else return -1;
  }
  return n;
}

/** IPv6, with at most one `::` (standing for at least one group), a trailing dotted IPv4, and a `%zone`. */
export function isIPv6(s: string): boolean {
  let text = s;
  const pct = text.indexOf('%');
  if (pct >= 0) {
    const zone = text.slice(pct + 1);
    if (zone.length === 0) return false;
    for (let i = 0; i < zone.length; i++) {
      const c = zone.charCodeAt(i);
      // [0-9a-zA-Z-.:]
      if (!(isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 58)) return false;
    }
    text = text.slice(0, pct);
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  if (halves.length === 1) return groupCount(text.split(':'), true) === 8;
  const [head, tail] = halves as [string, string];
  const h = head === '' ? 0 : groupCount(head.split(':'), false);
  const t = tail === '' ? 0 : groupCount(tail.split(':'), true);
  return h >= 0 && t >= 0 && h + t <= 7;
}

/** 4, 6, or 0 (not an IP address), as node:net's isIP. */
export function isIP(s: string): 0 | 4 | 6 {
  return isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0;
}

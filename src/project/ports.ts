/**
 * Published ports: the one parser of compose's short syntax (`[[ip:]published:]target[/protocol]`) and of
 * `run -p`/`--publish` strings.
 */

type Obj = Record<string, unknown>;

export interface PortRange {
  start: number;
  end: number;
}

export function parseRange(s: string): PortRange | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (end < start || end > 65535) return undefined;
  return { start, end };
}

/** Short port syntax `[[ip:]published:]target[/protocol]` with ranges → long entries (ranges expanded). */
export function parsePortSpec(spec: string): Obj[] | undefined {
  let protocol = 'tcp';
  let rest = spec.trim();
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1];
    rest = v6[2]!;
  }
  const parts = rest.split(':');
  let published: string | undefined;
  let target: string;
  if (hostIp !== undefined) {
    if (parts.length > 2) return undefined;
    [published, target] = parts.length === 2 ? [parts[0], parts[1]!] : [undefined, parts[0]!];
  } else if (parts.length === 1) target = parts[0]!;
  else if (parts.length === 2) [published, target] = [parts[0], parts[1]!];
  else if (parts.length === 3) [hostIp, published, target] = [parts[0], parts[1], parts[2]!];
  else if (parts.length > 3) {
    // Unbracketed IPv6 host address: everything before the last two fields.
    target = parts.pop()!;
    published = parts.pop();
    hostIp = parts.join(':');
  } else return undefined;
  const t = parseRange(target);
  if (!t) return undefined;
  const p = published === undefined || published === '' ? undefined : parseRange(published);
  if (published !== undefined && published !== '' && !p) return undefined;
  const base = (target: number, pub: string | undefined): Obj => {
    const o: Obj = { mode: 'ingress' };
    if (hostIp) o.host_ip = hostIp;
    o.target = target;
    if (pub !== undefined) o.published = pub;
    o.protocol = protocol;
    return o;
  };
  const count = t.end - t.start + 1;
  if (!p) return Array.from({ length: count }, (_, i) => base(t.start + i, undefined));
  const pcount = p.end - p.start + 1;
  if (count === 1) return [base(t.start, pcount === 1 ? String(p.start) : `${p.start}-${p.end}`)];
  if (pcount !== count) return undefined;
  return Array.from({ length: count }, (_, i) => base(t.start + i, String(p.start + i)));
}

/**
 * Container-level keys of a service → the swarm ContainerSpec's fields: environment, extra_hosts, dns, caps,
 * ulimits, healthcheck, logging and the security options a swarm service can take. Follows docker/cli's
 * cli/compose/convert/service.go (`docker stack deploy`); extensions: dns_opt → DNSConfig.Options, and
 * security_opt's no-new-privileges, seccomp/apparmor `unconfined` and SELinux `label:` options → Privileges
 * (docker stack ignores security_opt).
 */
import type { HealthCheckConfig, MappingWithEquals, ServiceConfig, UlimitConfig } from '../project/types.js';
import type { DNSConfig, Driver, HealthConfig, Privileges, Ulimit } from './api-types.js';
import { durationNs, sortedMap, uintOf, type Warn } from './convert-names.js';
import { SwarmConvertError } from './errors.js';

/** `KEY=value` sorted; a key without a value (null) stays bare, as docker stack sends it. */
export function convertEnvironment(env: MappingWithEquals | undefined): string[] {
  return Object.entries(env ?? {})
    .map(([k, v]) => (v === null ? k : `${k}=${v}`))
    .sort();
}

/** extra_hosts (`host=ip` after loading, or `host:ip`) → SwarmKit's `ip host` lines, in order. */
export function convertExtraHosts(service: string, hosts: readonly string[] | undefined): string[] {
  return (hosts ?? []).map((h, i) => {
    const eq = h.indexOf('=');
    const sep = eq >= 0 ? eq : h.indexOf(':');
    if (sep <= 0) throw new SwarmConvertError(service, `extra_hosts[${i}]`, `invalid host entry ${JSON.stringify(h)} (expected host=ip)`);
    let ip = h.slice(sep + 1);
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    return `${ip} ${h.slice(0, sep)}`;
  });
}

export function convertDns(svc: ServiceConfig): DNSConfig | undefined {
  const out: DNSConfig = {};
  if (svc.dns?.length) out.Nameservers = [...svc.dns];
  if (svc.dns_search?.length) out.Search = [...svc.dns_search];
  if (svc.dns_opt?.length) out.Options = [...svc.dns_opt];
  return Object.keys(out).length > 0 ? out : undefined;
}

function normalizeCap(c: string): string {
  const u = c.trim().toUpperCase();
  return u === 'ALL' || u === 'RESET' || u.startsWith('CAP_') ? u : `CAP_${u}`;
}

/** docker/cli's opts.EffectiveCapAddCapDrop: normalized, ALL absorbs the rest, a cap both added and dropped is added. */
export function convertCaps(add: readonly string[] | undefined, drop: readonly string[] | undefined): { add: string[]; drop: string[] } {
  let a = new Set((add ?? []).map(normalizeCap));
  let d = new Set((drop ?? []).map(normalizeCap));
  if (a.has('ALL')) a = new Set(['ALL']);
  if (d.has('ALL')) d = new Set(['ALL']);
  return {
    add: [...a].filter((c) => c !== 'RESET').sort(),
    drop: [...d].filter((c) => c !== 'RESET' && !a.has(c)).sort(),
  };
}

export function convertUlimits(service: string, ulimits: Readonly<Record<string, UlimitConfig>> | undefined): Ulimit[] {
  return Object.keys(ulimits ?? {})
    .sort()
    .map((name) => {
      const u = ulimits![name]!;
      const key = `ulimits.${name}`;
      if (typeof u === 'number') return { Name: name, Soft: u, Hard: u };
      const soft = u.soft === undefined ? undefined : uintOf(u.soft, service, `${key}.soft`);
      const hard = u.hard === undefined ? undefined : uintOf(u.hard, service, `${key}.hard`);
      if (soft === undefined || hard === undefined) throw new SwarmConvertError(service, key, 'expected a number or both soft and hard');
      return { Name: name, Soft: soft, Hard: hard };
    });
}

/** healthcheck → HealthConfig (durations in ns); `disable: true` → Test ["NONE"]. */
export function convertHealthcheck(service: string, hc: HealthCheckConfig | undefined): HealthConfig | undefined {
  if (!hc) return undefined;
  if (hc.disable) return { Test: ['NONE'] };
  const out: HealthConfig = {};
  if (hc.test !== undefined) out.Test = [...hc.test];
  if (hc.interval !== undefined) out.Interval = durationNs(hc.interval, service, 'healthcheck.interval');
  if (hc.timeout !== undefined) out.Timeout = durationNs(hc.timeout, service, 'healthcheck.timeout');
  if (hc.start_period !== undefined) out.StartPeriod = durationNs(hc.start_period, service, 'healthcheck.start_period');
  if (hc.start_interval !== undefined) out.StartInterval = durationNs(hc.start_interval, service, 'healthcheck.start_interval');
  if (hc.retries !== undefined && hc.retries !== null) out.Retries = uintOf(hc.retries, service, 'healthcheck.retries');
  return out;
}

export function convertLogging(svc: ServiceConfig): Driver | undefined {
  const l = svc.logging;
  if (!l || (l.driver === undefined && l.options === undefined)) return undefined;
  const opts = l.options ? sortedMap(l.options) : {};
  return { ...(l.driver !== undefined ? { Name: l.driver } : {}), ...(Object.keys(opts).length > 0 ? { Options: opts } : {}) };
}

/** security_opt → Privileges where a swarm service has the field; the rest is warned about. */
export function convertSecurityOpt(service: string, opts: readonly string[] | undefined, warn: Warn): Privileges | undefined {
  const out: Privileges = {};
  (opts ?? []).forEach((raw, i) => {
    const key = `security_opt[${i}]`;
    const sep = raw.search(/[:=]/);
    const [name, value] = sep < 0 ? [raw, ''] : [raw.slice(0, sep), raw.slice(sep + 1)];
    if (name === 'no-new-privileges' && (value === '' || value === 'true')) out.NoNewPrivileges = true;
    else if (name === 'no-new-privileges' && value === 'false') out.NoNewPrivileges = false;
    else if (name === 'seccomp' && value === 'unconfined') out.Seccomp = { Mode: 'unconfined' };
    else if (name === 'apparmor' && value === 'unconfined') out.AppArmor = { Mode: 'disabled' };
    else if (name === 'label') {
      const sel = (out.SELinuxContext ??= {});
      const lsep = value.indexOf(':');
      const [lk, lv] = lsep < 0 ? [value, ''] : [value.slice(0, lsep), value.slice(lsep + 1)];
      if (lk === 'disable') sel.Disable = true;
      else if (lk === 'user') sel.User = lv;
      else if (lk === 'role') sel.Role = lv;
      else if (lk === 'type') sel.Type = lv;
      else if (lk === 'level') sel.Level = lv;
      else warn(service, key, `SELinux option ${JSON.stringify(value)} is not supported by swarm services; ignored`);
    } else warn(service, key, `${JSON.stringify(raw)} is not supported by swarm services; ignored`);
  });
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * What the host has that a native project could leave behind, for leak checks: links, network namespaces, nftables
 * tables and iptables rules of tscompose, mounts and processes under a base directory (the test's state and run
 * directories), and tscompose's cgroups. Links, namespaces, tables and cgroups are machine-wide: compare two
 * snapshots only while no other native test runs (tests that do take `flock -x /tmp/tscompose-native.lock`, others
 * `flock -s`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { listCgroupDirs } from '../../src/runtime/native/oci/cgroups.js';

const out = (cmd: string, ...args: string[]): string => spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';

const lines = (s: string): string[] =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

export type HostSnapshot = Record<'links' | 'netns' | 'nft' | 'iptables' | 'mounts' | 'cgroups' | 'processes', string[]>;

/** A snapshot of what tscompose may leave; mounts and processes are those naming `base`. */
export function hostSnapshot(base: string): HostSnapshot {
  return {
    links: lines(out('ip', '-o', 'link'))
      .map((l) => l.split(':')[1]!.trim().split('@')[0]!)
      .filter((n) => /^(tsc-|vtsc)/.test(n))
      .sort(),
    netns: lines(out('ip', 'netns'))
      .filter((l) => l.startsWith('tsc-'))
      .sort(),
    nft: lines(out('nft', 'list', 'tables'))
      .filter((l) => l.includes('tsc-'))
      .sort(),
    iptables: lines(out('iptables-save'))
      .filter((l) => l.includes('tscompose'))
      .sort(),
    mounts: lines(readFileSync('/proc/self/mountinfo', 'utf8'))
      .map((l) => l.split(' ')[4]!)
      .filter((m) => m.startsWith(base))
      .sort(),
    cgroups: listCgroupDirs('/tscompose').sort(),
    processes: lines(out('ps', '-eo', 'pid,stat,args')).filter((l) => l.includes(base) && !/^\d+\s+Z/.test(l)),
  };
}

/** What `after` has that `before` had not, per kind (empty when nothing leaked). */
export function leakedSince(before: HostSnapshot, after: HostSnapshot): Partial<HostSnapshot> {
  const leaked: Partial<HostSnapshot> = {};
  for (const k of Object.keys(after) as (keyof HostSnapshot)[]) {
    const was = new Set(k === 'processes' ? before[k].map((l) => l.replace(/^\d+\s+/, '')) : before[k]);
    const extra = after[k].filter((x) => !was.has(k === 'processes' ? x.replace(/^\d+\s+/, '') : x));
    if (extra.length > 0) leaked[k] = extra;
  }
  return leaked;
}

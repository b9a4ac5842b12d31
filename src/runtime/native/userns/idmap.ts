/**
 * The id range of the native runtime's user-namespace remap, as dockerd's `userns-remap` (moby
 * `daemon/config`, `pkg/idtools`): root in a remapped container is `uid`/`gid` on the host, container id N is host
 * id `uid + N` for N below `size`. `TSCOMPOSE_USERNS_REMAP` (./context.ts) names the range:
 *
 * - unset, empty, `0`, `off`, `false`: no remap (the default, as dockerd's);
 * - `UID:GID:SIZE` (or `UID:SIZE`, the same start for groups): that range, as given;
 * - `default`: the subordinate ranges of the user `tscompose` in /etc/subuid and /etc/subgid; when it has none, a free
 *   65536-id range (the first above 100000 that no entry of either file overlaps) is appended to both files for it,
 *   as dockerd does for `dockremap` (tscompose does not add a passwd entry: only the subid files are read);
 * - `USER` or `USER:GROUP`: that user's first /etc/subuid range and that group's (or user's) first /etc/subgid range.
 *
 * The parsing and the allocation are pure; `resolveRemap` reads (and for `default` may append to) the files.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { TsComposeError } from '../../../errors.js';

/** A single contiguous mapping: container ids 0..size-1 are host uids uid.. and gids gid.. . */
export interface IdRange {
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

/** One line of /etc/subuid or /etc/subgid. */
export interface SubidEntry {
  readonly name: string;
  readonly start: number;
  readonly count: number;
}

/** What TSCOMPOSE_USERNS_REMAP asks for, before the subid files are read. */
export type RemapSetting =
  | { readonly kind: 'off' }
  | { readonly kind: 'range'; readonly range: IdRange }
  | { readonly kind: 'user'; readonly user: string; readonly group: string; readonly allocate: boolean };

/**
 * Host paths of remapped containers, under `<uid>.<gid>.<size>/` (root:gid 0710, as dockerd's
 * `/var/lib/docker/<uid>.<gid>`: searchable by the range's root group and host root only): `<id>` (the rootfs bound
 * for runc, ../rootfs.ts) and `<id>.userns` (the user namespace of a container others join through
 * `network_mode: service:`/`container:`, ./join.ts).
 */
export const USERNS_RUN_DIR = '/run/tscompose-userns';

/** The run directory of a range's containers (see USERNS_RUN_DIR). */
export function usernsRunDir(range: IdRange): string {
  return `${USERNS_RUN_DIR}/${rangeKey(range)}`;
}

/** The user `default` stands for (dockerd's `dockremap`). */
export const DEFAULT_REMAP_USER = 'tscompose';
/** The size of an allocated range (dockerd's and shadow's default). */
export const DEFAULT_RANGE_SIZE = 65536;
const FIRST_ALLOCATED_ID = 100000;
const MAX_ID = 4294967295;

function invalid(value: string, why: string): TsComposeError {
  return new TsComposeError('TSC_INVALID_USERNS_REMAP', `TSCOMPOSE_USERNS_REMAP=${value}: ${why}`, {
    hint: 'use `default`, a user name (USER[:GROUP]) with /etc/subuid and /etc/subgid entries, or UID:GID:SIZE such as 100000:100000:65536',
  });
}

const isId = (s: string): boolean => /^\d+$/.test(s);

/** Parses the setting (pure). */
export function parseRemapSetting(value: string | undefined): RemapSetting {
  const v = (value ?? '').trim();
  if (v === '' || v === '0' || v === 'off' || v === 'false') return { kind: 'off' };
  if (v === 'default') return { kind: 'user', user: DEFAULT_REMAP_USER, group: DEFAULT_REMAP_USER, allocate: true };
  const parts = v.split(':');
  if (parts.every(isId)) {
    if (parts.length !== 2 && parts.length !== 3) throw invalid(v, 'a numeric range is UID:GID:SIZE (or UID:SIZE)');
    const [uid, gid, size] = (parts.length === 3 ? parts : [parts[0], parts[0], parts[1]]).map(Number) as [number, number, number];
    return { kind: 'range', range: checkRange({ uid, gid, size }, v) };
  }
  if (parts.length > 2 || parts.some((p) => !/^[a-z_][a-z0-9_.-]*\$?$/i.test(p))) throw invalid(v, 'not a user name, USER:GROUP or UID:GID:SIZE');
  return { kind: 'user', user: parts[0]!, group: parts[1] ?? parts[0]!, allocate: false };
}

function checkRange(r: IdRange, value: string): IdRange {
  if (r.uid === 0 || r.gid === 0) throw invalid(value, 'the range must not start at 0 (container root would be host root)');
  if (r.size < 1) throw invalid(value, 'the range size must be at least 1');
  if (r.uid + r.size - 1 > MAX_ID || r.gid + r.size - 1 > MAX_ID) throw invalid(value, 'the range goes past the largest id');
  return r;
}

/** Parses /etc/subuid or /etc/subgid text (`name:start:count` lines; comments and malformed lines skipped). */
export function parseSubids(text: string): SubidEntry[] {
  const out: SubidEntry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const [name, start, count] = t.split(':');
    if (name === undefined || start === undefined || count === undefined || !isId(start) || !isId(count)) continue;
    out.push({ name, start: Number(start), count: Number(count) });
  }
  return out;
}

/** The first free `size`-id block at or above 100000 that no entry of either file overlaps (pure). */
export function allocateStart(entries: readonly SubidEntry[], size = DEFAULT_RANGE_SIZE): number {
  let start = FIRST_ALLOCATED_ID;
  const sorted = [...entries].sort((a, b) => a.start - b.start);
  for (const e of sorted) {
    if (e.start + e.count <= start) continue;
    if (e.start >= start + size) break;
    start = e.start + e.count;
  }
  return start;
}

/** The range for a `user` setting from the files' text (pure); undefined when the user or group has no entry. */
export function rangeFromSubids(setting: { user: string; group: string }, subuid: string, subgid: string): IdRange | undefined {
  const u = parseSubids(subuid).find((e) => e.name === setting.user);
  const g = parseSubids(subgid).find((e) => e.name === setting.group);
  if (!u || !g) return undefined;
  return { uid: u.start, gid: g.start, size: Math.min(u.count, g.count) };
}

const readOr = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/**
 * The range a setting names, reading /etc/subuid and /etc/subgid (`files` for tests); for `default` without an
 * entry, one is allocated and appended to both files. Undefined when the remap is off.
 */
export function resolveRemap(value: string | undefined, files = { subuid: '/etc/subuid', subgid: '/etc/subgid' }): IdRange | undefined {
  const setting = parseRemapSetting(value);
  if (setting.kind === 'off') return undefined;
  if (setting.kind === 'range') return setting.range;
  const subuid = readOr(files.subuid);
  const subgid = readOr(files.subgid);
  const found = rangeFromSubids(setting, subuid, subgid);
  if (found) return checkRange(found, value ?? '');
  if (!setting.allocate) throw invalid(value ?? '', `no /etc/subuid entry for ${setting.user} or no /etc/subgid entry for ${setting.group}`);
  const start = allocateStart([...parseSubids(subuid), ...parseSubids(subgid)]);
  const line = `${setting.user}:${start}:${DEFAULT_RANGE_SIZE}\n`;
  for (const [file, text] of [
    [files.subuid, subuid],
    [files.subgid, subgid],
  ] as const) {
    if (!parseSubids(text).some((e) => e.name === setting.user)) appendFileSync(file, (text === '' || text.endsWith('\n') ? '' : '\n') + line);
  }
  return resolveRemap(value, files);
}

/** The host id of container id `id` under `range` (undefined when outside the range). */
export function toHost(range: IdRange, kind: 'uid' | 'gid', id: number): number | undefined {
  return id >= 0 && id < range.size ? range[kind] + id : undefined;
}

/** `uid.gid.size`: the name of a range's directory of shifted layers. */
export function rangeKey(range: IdRange): string {
  return `${range.uid}.${range.gid}.${range.size}`;
}

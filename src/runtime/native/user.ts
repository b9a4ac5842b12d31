/**
 * Resolves a compose/image `user` (`name`, `uid`, `name:group`, `uid:gid`, `name:gid`, `uid:group`, empty = root)
 * against the image's `/etc/passwd` and `/etc/group`, exactly as Docker does (moby/sys/user `GetExecUser`):
 *
 * - a numeric user is always a uid (matched against passwd for the primary gid and home; it need not exist);
 * - a name must exist in passwd (`unable to find user NAME: no matching entries in passwd file`);
 * - an explicit group (numeric or name) sets the primary gid; a numeric one need not exist, a name must
 *   (`unable to find group NAME: no matching entries in group file`);
 * - without an explicit group, the supplementary gids are the groups that list the matched user name as a member
 *   (`docker run busybox id` → `groups=0(root),10(wheel)`);
 * - ids must be in 0..2^31-1.
 *
 * The files are read through secureJoin, so symlinks in the image cannot point outside the rootfs; missing files are
 * fine for numeric ids.
 */
import { readFile } from 'node:fs/promises';
import { TsComposeError } from '../../errors.js';
import { secureJoin } from './secure-path.js';

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: number[];
  /** The user's home directory from passwd, when the user has an entry there. */
  readonly home?: string;
}

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

const MAX_ID = 2 ** 31 - 1;

/** Parses passwd content; malformed lines (non-numeric ids) are skipped. */
export function parsePasswd(content: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0] ?? '', uid, gid, home: f[5] ?? '', shell: f[6] ?? '' });
  }
  return out;
}

/** Parses group content; malformed lines are skipped. */
export function parseGroup(content: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const gid = parseId(f[2] ?? '');
    if (gid === undefined) continue;
    const list = (f[3] ?? '').trim();
    out.push({
      name: f[0] ?? '',
      gid,
      members:
        list === ''
          ? []
          : list
              .split(',')
              .map((m) => m.trim())
              .filter((m) => m !== ''),
    });
  }
  return out;
}

/** A decimal integer (Go's Atoi: optional sign), else undefined. */
function parseId(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

function checkRange(id: number): number {
  if (id < 0 || id > MAX_ID) {
    throw new TsComposeError('TSC_USER_INVALID', `uids and gids must be in range 0-${MAX_ID}`);
  }
  return id;
}

async function readRootfsFile(rootfs: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(await secureJoin(rootfs, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
}

/** Pure part of resolveUser: `passwd`/`group` undefined = the file does not exist. */
export function resolveUserFrom(user: string | undefined, passwd: string | undefined, group: string | undefined): ResolvedUser {
  const spec = user ?? '';
  const colon = spec.indexOf(':');
  const userArg = colon === -1 ? spec : spec.slice(0, colon);
  const groupArg = colon === -1 ? '' : spec.slice(colon + 1);
  const uidArg = parseId(userArg);
  const gidArg = parseId(groupArg);

  let uid = 0;
  let gid = 0;
  let home: string | undefined;
  let matchedName: string | undefined;

  const users = passwd === undefined ? [] : parsePasswd(passwd);
  const match = users.find((u) => {
    if (userArg === '') return u.uid === 0;
    if (uidArg !== undefined) return u.uid === uidArg;
    return u.name === userArg;
  });
  if (match) {
    uid = match.uid;
    gid = match.gid;
    home = match.home;
    matchedName = match.name;
  } else if (userArg !== '') {
    if (uidArg === undefined) {
      throw new TsComposeError('TSC_USER_NOT_FOUND', `unable to find user ${userArg}: no matching entries in passwd file`);
    }
    uid = checkRange(uidArg);
  }

  let additionalGids: number[] = [];
  if (groupArg !== '' || matchedName !== undefined) {
    const groups = group === undefined ? [] : parseGroup(group);
    if (groupArg !== '') {
      const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
      if (g) gid = g.gid;
      else if (gidArg === undefined) {
        throw new TsComposeError('TSC_USER_NOT_FOUND', `unable to find group ${groupArg}: no matching entries in group file`);
      } else gid = checkRange(gidArg);
    } else {
      additionalGids = groups.filter((e) => e.members.includes(matchedName as string)).map((e) => e.gid);
    }
  }

  return home === undefined ? { uid, gid, additionalGids } : { uid, gid, additionalGids, home };
}

/** Resolves `user` inside the image rootfs (see the module comment). */
export async function resolveUser(rootfs: string, user: string | undefined): Promise<ResolvedUser> {
  const [passwd, group] = await Promise.all([readRootfsFile(rootfs, '/etc/passwd'), readRootfsFile(rootfs, '/etc/group')]);
  return resolveUserFrom(user, passwd, group);
}

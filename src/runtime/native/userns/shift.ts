/**
 * A chowned copy of a directory tree for a user-namespace remap: every owner moved up by the range's start, as
 * dockerd keeps a copy of each layer under `/var/lib/docker/<uid>.<gid>/` (moby `pkg/idtools`, the graphdriver's
 * remapped unpack). Used for image layers where idmapped mounts are out of reach: runc 1.1.5 has no
 * `mount_setattr(MOUNT_ATTR_IDMAP)` support in its spec and Node cannot call it without native code.
 *
 * `cp -a` makes the copy (modes, timestamps, hardlinks, symlinks, device nodes, fifos, sockets and xattrs, among them
 * overlayfs's `trusted.overlay.opaque` and its whiteouts, char devices 0:0); then each inode is chowned once
 * (`lchown`), the setuid/setgid bits a chown clears are set again, and file capabilities (`security.capability`,
 * which a chown removes) are written back as v3 capabilities whose root id is the range's root, so they take
 * effect for the remapped root (a v2 capability only counts for the host's root).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { TsComposeError } from '../../../errors.js';
import { toHost, type IdRange } from './idmap.js';

const execFileP = promisify(execFile);

/** Writes a copy of `src` at `dest` (which must not exist) with every owner shifted into `range`. */
export async function shiftedCopy(src: string, dest: string, range: IdRange): Promise<void> {
  const tmp = `${dest}.tmp-${randomBytes(6).toString('hex')}`;
  await fs.mkdir(path.dirname(dest), { recursive: true });
  try {
    const caps = await readCapabilities(src);
    await execFileP('cp', ['-a', '--reflink=auto', src, tmp], { maxBuffer: 16 * 1024 * 1024 }).catch((e: unknown) => {
      throw new TsComposeError(
        'TSC_USERNS_COPY',
        `cannot copy ${src} for the user namespace remap: ${String((e as { stderr?: string }).stderr ?? e).trim()}`,
      );
    });
    await shiftOwners(tmp, range);
    await writeCapabilities(tmp, caps, range);
    try {
      await fs.rename(tmp, dest);
    } catch (e) {
      // Another process made the same copy first: keep theirs.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

function outOfRange(file: string, kind: string, id: number, range: IdRange): TsComposeError {
  return new TsComposeError(
    'TSC_USERNS_ID_OUT_OF_RANGE',
    `${file}: ${kind} ${id} cannot be mapped into the user namespace remap (container ids 0-${range.size - 1})`,
    { hint: 'use a larger remap range (TSCOMPOSE_USERNS_REMAP=UID:GID:SIZE) or `userns_mode: host` for this service' },
  );
}

/** Chowns every inode under `root` (itself included) once, from its ids to the range's (in place). */
export async function shiftOwners(root: string, range: IdRange): Promise<void> {
  const seen = new Set<number>();
  const visit = async (p: string): Promise<void> => {
    const st = await fs.lstat(p);
    if (st.nlink > 1 && !st.isDirectory()) {
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
    }
    const uid = toHost(range, 'uid', st.uid);
    const gid = toHost(range, 'gid', st.gid);
    if (uid === undefined) throw outOfRange(p, 'uid', st.uid, range);
    if (gid === undefined) throw outOfRange(p, 'gid', st.gid, range);
    await fs.lchown(p, uid, gid);
    // chown clears setuid/setgid on executables; set the mode again.
    if (!st.isSymbolicLink() && (st.mode & 0o6000) !== 0) await fs.chmod(p, st.mode & 0o7777);
    if (st.isDirectory()) {
      const names = await fs.readdir(p);
      for (let i = 0; i < names.length; i += 64) await Promise.all(names.slice(i, i + 64).map((n) => visit(path.join(p, n))));
    }
  };
  await visit(root);
}

/** `security.capability` values (hex) under `root` by relative path, read with getfattr (empty without it). */
async function readCapabilities(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let text: string;
  try {
    ({ stdout: text } = await execFileP('getfattr', ['-R', '-P', '--absolute-names', '-m', '^security\\.capability$', '-e', 'hex', '-d', root], {
      maxBuffer: 64 * 1024 * 1024,
    }));
  } catch (e) {
    text = String((e as { stdout?: string }).stdout ?? '');
  }
  let file: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) file = line.slice('# file: '.length);
    else if (file !== undefined && line.startsWith('security.capability=0x'))
      out.set(path.relative(root, file), line.slice('security.capability='.length));
  }
  return out;
}

/**
 * A `security.capability` value as a v3 capability owned by the range's root: v2 (20 bytes) gets a root id, a v3
 * one has its root id shifted. Others (v1) are returned unchanged.
 */
export function capabilityForRange(hex: string, range: IdRange): string {
  const b = Buffer.from(hex.replace(/^0x/, ''), 'hex');
  if (b.length < 4) return hex;
  const revision = b.readUInt32LE(0) & 0xff000000;
  let out: Buffer;
  if (revision === 0x02000000 && b.length === 20) {
    out = Buffer.alloc(24);
    b.copy(out);
    out.writeUInt32LE(((b.readUInt32LE(0) & 0x00ffffff) | 0x03000000) >>> 0, 0);
    out.writeUInt32LE(range.uid, 20);
  } else if (revision === 0x03000000 && b.length === 24) {
    out = Buffer.from(b);
    const root = toHost(range, 'uid', b.readUInt32LE(20));
    out.writeUInt32LE(root ?? range.uid, 20);
  } else {
    return hex;
  }
  return `0x${out.toString('hex')}`;
}

async function writeCapabilities(root: string, caps: Map<string, string>, range: IdRange): Promise<void> {
  if (caps.size === 0) return;
  const dump = [...caps].map(([rel, hex]) => `# file: ${path.join(root, rel)}\nsecurity.capability=${capabilityForRange(hex, range)}\n`).join('\n');
  await new Promise<void>((resolve, reject) => {
    const child = execFile('setfattr', ['--restore=-'], (e) => (e ? reject(e) : resolve()));
    child.stdin?.end(dump);
  });
}

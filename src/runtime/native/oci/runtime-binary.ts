/**
 * The OCI runtime's binary as tscompose launches it: from a read-only bind mount of it, made once per boot.
 *
 * runc and crun guard against CVE-2019-5736 (a container process overwriting the host's runtime binary through
 * /proc/PID/exe while the runtime works in its namespaces): at every invocation, before anything else, each makes a
 * read-only bind mount of its own binary in /tmp (two mounts and an unmount, under the kernel's mount lock that every
 * container's rootfs mount also takes), or a sealed copy, and re-executes itself from it. An `up` of 20 containers ran
 * that 36 times. Both skip it when they already run from a read-only file system and `_LIBCONTAINER_CLONED_BINARY`
 * is set (their `is_self_cloned`): the same protection, made once. So the binary is bind-mounted read-only at
 * `/run/tscompose/oci-bin/<name>-<dev>-<inode>` (on tmpfs: gone at reboot), and launched from there with that
 * variable (`CLONED_BINARY_ENV`). A new version of the binary (another inode) gets a mount of its own; older ones are
 * unmounted lazily (runtimes running from them go on). Where the mount cannot be made (no privilege to mount), the
 * binary is launched as it is and protects itself as before.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import * as path from 'node:path';

export const PROTECTED_BINARY_DIR = '/run/tscompose/oci-bin';

/** What a runtime launched from its protected path needs in its environment to know it is protected. */
export const CLONED_BINARY_ENV: Readonly<Record<string, string>> = { _LIBCONTAINER_CLONED_BINARY: '1' };

const cache = new Map<string, string>();

/**
 * The path to launch `binary` from: its read-only bind mount under `dir` (made now if missing, under a lock), or
 * `binary` itself when no mount can be made. Cached per process.
 */
export function protectedBinaryPath(binary: string, dir: string = PROTECTED_BINARY_DIR): string {
  const key = `${dir}\0${binary}`;
  const known = cache.get(key);
  if (known !== undefined) return known;
  const found = protect(binary, dir);
  cache.set(key, found);
  return found;
}

/** Forgets what protectedBinaryPath found (tests). */
export function forgetProtectedBinaries(): void {
  cache.clear();
}

function protect(binary: string, dir: string): string {
  let st;
  try {
    st = statSync(binary);
  } catch {
    return binary;
  }
  const target = path.join(dir, `${path.basename(binary)}-${st.dev}-${st.ino}`);
  if (isReadOnlyBindOf(target, st)) return target;
  // Once per boot and version of the binary: the CLI's one synchronous spawn for it, under a lock (flock) so that two
  // commands starting at once make one mount.
  const script = `set -e
d="$1" bin="$2" t="$3"
mkdir -p -m 0755 "$d"
exec 9>"$d/.lock"
flock 9
if ! grep -q " $t " /proc/self/mountinfo; then
  : >"$t"
  mount --bind "$bin" "$t"
  mount -o remount,bind,ro "$t"
fi
for f in "$d/\${bin##*/}"-*; do
  [ "$f" = "$t" ] || [ ! -e "$f" ] && continue
  umount -l "$f" 2>/dev/null || true
  rm -f "$f"
done`;
  const r = spawnSync('sh', ['-c', script, 'tscompose-oci-bin', dir, binary, target], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0 && isReadOnlyBindOf(target, st) ? target : binary;
}

/** Whether `target` is the same file as `st`'s (a bind mount keeps device and inode) on a read-only mount. */
function isReadOnlyBindOf(target: string, st: { dev: number; ino: number }): boolean {
  try {
    const t = statSync(target);
    if (t.dev !== st.dev || t.ino !== st.ino) return false;
    accessSync(target, fsConstants.W_OK);
    return false; // writable: not (or no longer) the read-only mount
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/**
 * Where small private files that live for a moment go (a helper's job outputs, a runtime's captured stderr): /dev/shm,
 * in memory, when it is a writable directory, else the system's temporary directory. On a disk, every such file is
 * an inode allocated and freed; Debian keeps /tmp on its root file system, and ext4 without a journal (as on the VMs
 * this project is measured on) scans past every recently freed inode at each allocation, so a busy `up` paid more
 * for these files than for the work they carried. Callers make a private (0700) directory or file under it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';

let found: string | undefined;

export function scratchDir(): string {
  found ??= usable('/dev/shm') ? '/dev/shm' : tmpdir();
  return found;
}

function usable(dir: string): boolean {
  try {
    if (!statSync(dir).isDirectory()) return false;
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

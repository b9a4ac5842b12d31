/**
 * `which` without a process: where an executable of that name is found, on PATH and then the usual bin/sbin
 * directories (runc lives in /usr/sbin, often not on a user's PATH). PATH is this process's own search path, not a
 * tscompose setting, so it is read here.
 */
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import * as path from 'node:path';

const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Whether an absolute path is an executable file. */
export function isExecutableFile(file: string): boolean {
  try {
    // no exception for a missing file: `which` looks in a dozen directories, and each throw cost more than the stat
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return false;
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of `cmd` (see above), or undefined. */
export function whichSync(cmd: string, pathEnv: string | undefined = process.env['PATH']): string | undefined {
  const dirs = [...(pathEnv ?? '').split(':').filter((d) => d.startsWith('/')), ...EXTRA_BIN_DIRS];
  for (const d of dirs) {
    const f = path.join(d, cmd);
    if (isExecutableFile(f)) return f;
  }
  return undefined;
}

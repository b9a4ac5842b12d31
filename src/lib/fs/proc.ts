/** Process checks by pid, from signals and /proc. */
import { readFileSync } from 'node:fs';
import { isErrno } from '../errors.js';

/** Whether a process with that pid exists (EPERM counts as alive; a zombie too). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
}

let bootIdCache: string | undefined;

/** This boot of the machine (/proc/sys/kernel/random/boot_id): pids and /run of another boot mean nothing now. */
export function bootId(): string {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootIdCache = '';
    }
  }
  return bootIdCache;
}

/** The pid a pid file holds (read synchronously: a few bytes), or 0 when there is no file or no number in it. */
export function readPidFile(file: string): number {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

/** Alive and not a zombie. */
export function processRunning(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).state !== 'Z';
  } catch {
    return false;
  }
}

/**
 * /proc/PID/stat: the command name (field 2, in parentheses, may itself hold spaces and parentheses), the state
 * (field 3), and `fields`, the space-separated fields from the state on (`fields[n - 3]` is field n).
 */
export function parseProcStat(stat: string): { comm: string; state: string; fields: string[] } {
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), state: fields[0] ?? '', fields };
}

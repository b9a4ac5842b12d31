/** Whether a lock is there: a symlink to its holder's pid, which existsSync follows and finds missing. */
import { lstatSync } from 'node:fs';

export function lockPresent(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

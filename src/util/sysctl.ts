/** Reads a kernel setting of this machine by its sysctl name (`vm.max_map_count` → /proc/sys/vm/max_map_count). */
import { readFile } from 'node:fs/promises';

/** The setting's value (trimmed), or undefined when the name is not a sysctl name or this machine has no such file. */
export async function readSysctl(name: string): Promise<string | undefined> {
  if (!/^[a-z0-9_]+(\.[a-z0-9_-]+)+$/.test(name)) return undefined;
  try {
    return (await readFile(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

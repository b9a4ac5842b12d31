/**
 * Files of the DNS resolver under `<state dir>/dns/`:
 *   networks/<network>.json  one DnsNetwork (+ serial) per served network, written by the CLI (./control.ts)
 *   resolver.pid             the resolver's pid (written by the resolver)
 *   status.json              what the resolver serves: pid, and per network the loaded serial, listening, error
 *   resolver.log             the resolver's stdout/stderr
 *   lock/                    serializes CLI changes
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseProcStat } from '../fs/proc.js';

export interface DnsStatusFile {
  pid: number;
  networks: Record<string, { serial: string; listening: boolean; error?: string }>;
}

export function dnsPaths(dir: string) {
  return {
    dir,
    networks: path.join(dir, 'networks'),
    pid: path.join(dir, 'resolver.pid'),
    status: path.join(dir, 'status.json'),
    log: path.join(dir, 'resolver.log'),
    lock: path.join(dir, 'lock'),
  };
}

export function networkFileName(network: string): string {
  return `${encodeURIComponent(network)}.json`;
}

export function networkFromFileName(file: string): string | undefined {
  return file.endsWith('.json') ? decodeURIComponent(file.slice(0, -'.json'.length)) : undefined;
}

/**
 * Whether `pid` is a live (not zombie) resolver of `dir`: its command line names `dir` (guards against pid reuse).
 * During an exec the command line reads empty: then the process name decides (node, or nsenter about to exec it).
 */
export async function isResolver(pid: number, dir: string): Promise<boolean> {
  try {
    const [cmdline, stat] = await Promise.all([fs.readFile(`/proc/${pid}/cmdline`, 'utf8'), fs.readFile(`/proc/${pid}/stat`, 'utf8')]);
    const { comm, state } = parseProcStat(stat);
    if (state === 'Z' || state === 'X') return false;
    if (cmdline === '') return /^(node|nsenter|MainThread)$/.test(comm);
    return cmdline.split('\0').includes(dir);
  } catch {
    return false;
  }
}

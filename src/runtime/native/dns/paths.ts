/**
 * Files of the DNS resolver under `<state dir>/dns/`:
 *   networks/<network>.json  one DnsNetwork (+ serial) per served network, written by the CLI (./control.ts)
 *   resolver.pid             the resolver's pid (written by the resolver)
 *   status.json              what the resolver serves: pid, and per network the loaded serial, listening, error
 *   resolver.log             the resolver's stdout/stderr
 *   lock/                    serializes CLI changes
 */
import * as path from 'node:path';

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

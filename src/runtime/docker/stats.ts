/**
 * `containerStats` on Docker Engine: one reading of `GET /containers/{id}/stats?stream=false&one-shot=true` turned
 * into the port's StatsSample. Memory as the docker CLI shows it (usage minus the inactive page cache: cgroup v1's
 * `total_inactive_file`, v2's `inactive_file`); block I/O summed over devices from `io_service_bytes_recursive`;
 * network summed over the container's interfaces.
 */
import type { CallOptions, StatsSample } from '../runtime.js';
import { invoke, sig, type DockerCall } from './call.js';

/** The parts of the engine's stats JSON this reads (engine API `ContainerStatsResponse`). */
export interface RawStats {
  readonly cpu_stats?: {
    readonly cpu_usage?: { readonly total_usage?: number; readonly percpu_usage?: readonly number[] | null };
    readonly system_cpu_usage?: number;
    readonly online_cpus?: number;
  };
  readonly memory_stats?: { readonly usage?: number; readonly limit?: number; readonly stats?: Readonly<Record<string, number>> };
  readonly networks?: Readonly<Record<string, { readonly rx_bytes?: number; readonly tx_bytes?: number }>> | null;
  readonly blkio_stats?: { readonly io_service_bytes_recursive?: readonly { readonly op?: string; readonly value?: number }[] | null };
  readonly pids_stats?: { readonly current?: number };
}

/** The engine's stats JSON → StatsSample (`now`: when it was read). */
export function toStatsSample(raw: RawStats, now = Date.now()): StatsSample {
  const cpu = raw.cpu_stats ?? {};
  const mem = raw.memory_stats ?? {};
  const usage = mem.usage ?? 0;
  const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(raw.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of raw.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '').toLowerCase();
    if (op === 'read') read += e.value ?? 0;
    else if (op === 'write') write += e.value ?? 0;
  }
  return {
    read: now,
    cpuNs: cpu.cpu_usage?.total_usage ?? 0,
    systemCpuNs: cpu.system_cpu_usage ?? 0,
    onlineCpus: cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 0,
    memoryBytes: inactive !== undefined && inactive < usage ? usage - inactive : usage,
    memoryLimitBytes: mem.limit ?? 0,
    netRxBytes: rx,
    netTxBytes: tx,
    blockReadBytes: read,
    blockWriteBytes: write,
    pids: raw.pids_stats?.current ?? 0,
  };
}

/** One stats reading of `idOrName` (NotFound when it does not exist). */
export async function dockerContainerStats(d: DockerCall, idOrName: string, options?: CallOptions): Promise<StatsSample> {
  const raw = (await d.call('container', idOrName, () =>
    invoke(d.docker.getContainer(idOrName), 'stats', { stream: false, 'one-shot': true, ...sig(options) }),
  )) as RawStats;
  return toStatsSample(raw);
}

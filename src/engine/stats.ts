/**
 * `stats`: resource usage of a project's containers as `docker stats` reports it (docker/cli
 * `cli/command/container/stats_helpers.go`): CPU % from two readings (the container's CPU time over the host's, times
 * the CPUs online, × 100), memory usage / limit and %, network and block I/O, PIDs. One reading per container per
 * round through the runtime port's `containerStats`; the first round needs a reading before it (`intervalMs` apart).
 */
import type { ContainerSummary, StatsSample } from '../runtime/runtime.js';
import { projectContainers, serviceOf } from './containers.js';
import type { EngineContext } from './events.js';

export interface StatsRow {
  readonly id: string;
  readonly name: string;
  readonly service: string;
  /** 0 without an earlier reading to compare with. */
  readonly cpuPercent: number;
  readonly memoryBytes: number;
  readonly memoryLimitBytes: number;
  readonly memoryPercent: number;
  readonly netRxBytes: number;
  readonly netTxBytes: number;
  readonly blockReadBytes: number;
  readonly blockWriteBytes: number;
  readonly pids: number;
}

/** docker's calculateCPUPercentUnix: Δ container CPU / Δ host CPU × online CPUs × 100 (0 without a change). */
export function cpuPercent(previous: StatsSample | undefined, current: StatsSample): number {
  if (!previous) return 0;
  const cpuDelta = current.cpuNs - previous.cpuNs;
  const systemDelta = current.systemCpuNs - previous.systemCpuNs;
  if (cpuDelta <= 0 || systemDelta <= 0) return 0;
  return (cpuDelta / systemDelta) * Math.max(current.onlineCpus, 1) * 100;
}

export function statsRow(c: ContainerSummary, previous: StatsSample | undefined, current: StatsSample): StatsRow {
  return {
    id: c.id,
    name: c.name,
    service: serviceOf(c),
    cpuPercent: cpuPercent(previous, current),
    memoryBytes: current.memoryBytes,
    memoryLimitBytes: current.memoryLimitBytes,
    memoryPercent: current.memoryLimitBytes > 0 ? (current.memoryBytes / current.memoryLimitBytes) * 100 : 0,
    netRxBytes: current.netRxBytes,
    netTxBytes: current.netTxBytes,
    blockReadBytes: current.blockReadBytes,
    blockWriteBytes: current.blockWriteBytes,
    pids: current.pids,
  };
}

export interface StatsOptions {
  readonly services?: readonly string[] | undefined;
  /** `-a`: stopped containers too (their readings are zeros). */
  readonly all?: boolean | undefined;
  /** `--no-stream`: one round, then the iteration ends. */
  readonly noStream?: boolean | undefined;
  /** Between readings (default 1000 ms, as dockerd's collector). */
  readonly intervalMs?: number | undefined;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Rounds of rows, one row per container (sorted as `ps`): the containers are listed again each round, so ones that
 * start later join and removed ones leave. Ends after one round with `noStream`, else when the signal aborts.
 */
export async function* projectStats(ctx: EngineContext, project: string, options: StatsOptions = {}): AsyncGenerator<StatsRow[]> {
  const interval = options.intervalMs ?? 1000;
  const previous = new Map<string, StatsSample>();
  const read = async (c: ContainerSummary): Promise<StatsSample | undefined> => {
    try {
      return await ctx.runtime.containerStats(c.id, { signal: ctx.signal });
    } catch {
      return undefined; // removed meanwhile
    }
  };
  let first = true;
  while (!ctx.signal?.aborted) {
    const list = await projectContainers(ctx.runtime, project, {
      services: options.services,
      oneoff: true,
      runningOnly: !options.all,
      signal: ctx.signal,
    });
    if (first) {
      // CPU % needs a reading before the one shown.
      const samples = await Promise.all(list.map(read));
      list.forEach((c, i) => samples[i] && previous.set(c.id, samples[i]));
      await sleep(interval, ctx.signal);
      first = false;
      if (ctx.signal?.aborted) return;
    }
    const rows: StatsRow[] = [];
    const seen = new Set<string>();
    const samples = await Promise.all(list.map(read));
    for (const [i, c] of list.entries()) {
      const s = samples[i];
      if (!s) continue;
      rows.push(statsRow(c, previous.get(c.id), s));
      previous.set(c.id, s);
      seen.add(c.id);
    }
    for (const id of previous.keys()) if (!seen.has(id)) previous.delete(id);
    yield rows;
    if (options.noStream) return;
    await sleep(interval, ctx.signal);
  }
}

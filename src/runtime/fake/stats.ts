/**
 * `containerStats` on the fake runtime: canned readings. Each reading of a running (or paused) container adds 0.5 s
 * of CPU time against 4 s of host time on 2 CPUs, so two readings make 25 % as `docker stats` computes it; memory
 * 10 MiB of its limit (the spec's, else 2 GiB), 1 kB in, 2 kB out, 4 kB read, 1 process. Stopped: zeros (the limit too, as Docker).
 */
import type { StatsSample } from '../runtime.js';
import type { FakeContainer, FakeState } from './state.js';

export const FAKE_HOST_MEMORY = 2 * 1024 ** 3;
const readings = new WeakMap<FakeContainer, number>();

export function containerStats(s: FakeState, idOrName: string, now = Date.now()): StatsSample {
  const c = s.container(idOrName);
  const n = (readings.get(c) ?? 0) + 1;
  readings.set(c, n);
  const live = c.status === 'running' || c.status === 'paused';
  return {
    read: now,
    cpuNs: live ? n * 0.5e9 : 0,
    systemCpuNs: n * 4e9,
    onlineCpus: 2,
    memoryBytes: live ? 10 * 1024 ** 2 : 0,
    memoryLimitBytes: live ? (c.spec.resources?.memoryBytes ?? FAKE_HOST_MEMORY) : 0,
    netRxBytes: live ? 1000 : 0,
    netTxBytes: live ? 2000 : 0,
    blockReadBytes: live ? 4096 : 0,
    blockWriteBytes: 0,
    pids: live ? 1 : 0,
  };
}

import { expect, test } from '@jest/globals';
import { toStatsSample } from './stats.js';

test('the engine stats JSON: memory less the inactive page cache (v1 and v2 names), networks and block I/O summed', () => {
  const raw = {
    cpu_stats: { cpu_usage: { total_usage: 5e8 }, system_cpu_usage: 9e12, online_cpus: 4 },
    memory_stats: { usage: 10_000_000, limit: 64 * 1024 * 1024, stats: { inactive_file: 2_000_000 } },
    networks: { eth0: { rx_bytes: 100, tx_bytes: 50 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
    blkio_stats: {
      io_service_bytes_recursive: [
        { op: 'read', value: 4096 },
        { op: 'write', value: 10 },
        { op: 'Read', value: 4 },
      ],
    },
    pids_stats: { current: 3 },
  };
  expect(toStatsSample(raw, 7)).toEqual({
    read: 7,
    cpuNs: 5e8,
    systemCpuNs: 9e12,
    onlineCpus: 4,
    memoryBytes: 8_000_000,
    memoryLimitBytes: 64 * 1024 * 1024,
    netRxBytes: 101,
    netTxBytes: 52,
    blockReadBytes: 4100,
    blockWriteBytes: 10,
    pids: 3,
  });
  expect(toStatsSample({ memory_stats: { usage: 10, stats: { total_inactive_file: 4 } } }).memoryBytes).toBe(6);
  // a stopped container: the engine sends empty sections
  expect(toStatsSample({ cpu_stats: { cpu_usage: { total_usage: 0, percpu_usage: [1, 2] } }, memory_stats: {}, networks: null })).toMatchObject({
    cpuNs: 0,
    onlineCpus: 2,
    memoryBytes: 0,
    memoryLimitBytes: 0,
    netRxBytes: 0,
    pids: 0,
  });
});

import { describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem, tmpdir } from 'node:os';
import * as path from 'node:path';
import { nativeStatsSample, parseBlkio, parseIoStat, parseNetDev, parseProcCgroup, parseProcStat } from './stats.js';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
  eth0:    1200      10    0    0    0     0          0         0      800       8    0    0    0     0       0          0
  eth1:     300       3    0    0    0     0          0         0      200       2    0    0    0     0       0          0
`;
const PROC_STAT = 'cpu  100 0 50 800 10 5 5 0 0 0\ncpu0 50 0 25 400 5 2 3 0 0 0\ncpu1 50 0 25 400 5 3 2 0 0 0\nintr 1\n';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'tsc-stats-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), text);
  }
  return root;
}

describe('parsers', () => {
  test('/proc/PID/cgroup: v2 unified line, v1 joint controllers and named hierarchies', () => {
    expect(parseProcCgroup('0::/tscompose/abc\n')).toEqual(new Map([['', '/tscompose/abc']]));
    const v1 = parseProcCgroup('4:cpu,cpuacct:/tscompose/abc\n7:memory:/tscompose/abc\n1:name=systemd:/x\n0::/\n');
    expect(v1.get('cpuacct')).toBe('/tscompose/abc');
    expect(v1.get('cpu')).toBe('/tscompose/abc');
    expect(v1.get('memory')).toBe('/tscompose/abc');
    expect(v1.get('systemd')).toBe('/x');
  });

  test('net/dev: every interface but lo', () => {
    expect(parseNetDev(NET_DEV)).toEqual({ rx: 1500, tx: 1000 });
    expect(parseNetDev(undefined)).toEqual({ rx: 0, tx: 0 });
  });

  test('/proc/stat: user..softirq in ticks of 10 ms, CPUs counted', () => {
    expect(parseProcStat(PROC_STAT)).toEqual({ systemCpuNs: 970 * 1e7, onlineCpus: 2 });
  });

  test('io.stat and blkio: bytes read and written summed over devices (Total lines skipped)', () => {
    expect(parseIoStat('8:0 rbytes=4096 wbytes=512 rios=1 wios=1\n8:16 rbytes=100 wbytes=0\n')).toEqual({ read: 4196, write: 512 });
    expect(parseBlkio('8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:0 Total 4608\nTotal 4608\n')).toEqual({ read: 4096, write: 512 });
  });
});

describe('nativeStatsSample', () => {
  test('cgroup v2: cpu.stat, memory.current less inactive files, memory.max, pids, io.stat, the namespace network', () => {
    const cg = 'sys/fs/cgroup/tscompose/abc';
    const root = tree({
      'proc/stat': PROC_STAT,
      'proc/42/cgroup': '0::/tscompose/abc\n',
      'proc/42/net/dev': NET_DEV,
      [`${cg}/cpu.stat`]: 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n',
      [`${cg}/memory.current`]: '10485760\n',
      [`${cg}/memory.stat`]: 'anon 1\nfile 4194304\ninactive_file 2097152\n',
      [`${cg}/memory.max`]: '67108864\n',
      [`${cg}/pids.current`]: '3\n',
      [`${cg}/io.stat`]: '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2\n',
    });
    try {
      expect(nativeStatsSample('v2', { running: true, pid: 42 }, root, 1000)).toEqual({
        read: 1000,
        cpuNs: 2_500_000,
        systemCpuNs: 970 * 1e7,
        onlineCpus: 2,
        memoryBytes: 10485760 - 2097152,
        memoryLimitBytes: 67108864,
        netRxBytes: 1500,
        netTxBytes: 1000,
        blockReadBytes: 4096,
        blockWriteBytes: 8192,
        pids: 3,
      });
      // network_mode: host shows no network of its own, as Docker; memory.max `max` is the host's memory
      writeFileSync(path.join(root, cg, 'memory.max'), 'max\n');
      const host = nativeStatsSample('v2', { running: true, pid: 42, networkMode: 'host' }, root);
      expect([host.netRxBytes, host.netTxBytes, host.memoryLimitBytes]).toEqual([0, 0, totalmem()]);
      // not running, or its process gone: zeros
      expect(nativeStatsSample('v2', { running: false, pid: 42 }, root)).toMatchObject({ cpuNs: 0, memoryBytes: 0, pids: 0, memoryLimitBytes: 0 });
      expect(nativeStatsSample('v2', { running: true, pid: 43 }, root)).toMatchObject({ cpuNs: 0, pids: 0 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('cgroup v1: cpuacct.usage, memory.usage_in_bytes less total_inactive_file, the unlimited value, pids, blkio', () => {
    const p = 'tscompose/abc';
    const root = tree({
      'proc/stat': PROC_STAT,
      'proc/7/cgroup': `4:cpu,cpuacct:/${p}\n7:memory:/${p}\n3:pids:/${p}\n9:blkio:/${p}\n`,
      'proc/7/net/dev': NET_DEV,
      [`sys/fs/cgroup/cpuacct/${p}/cpuacct.usage`]: '123456789\n',
      [`sys/fs/cgroup/memory/${p}/memory.usage_in_bytes`]: '5000000\n',
      [`sys/fs/cgroup/memory/${p}/memory.stat`]: 'cache 100\ntotal_inactive_file 1000000\n',
      [`sys/fs/cgroup/memory/${p}/memory.limit_in_bytes`]: '9223372036854771712\n',
      [`sys/fs/cgroup/pids/${p}/pids.current`]: '2\n',
      [`sys/fs/cgroup/blkio/${p}/blkio.throttle.io_service_bytes_recursive`]: '8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n',
    });
    try {
      expect(nativeStatsSample('v1', { running: true, pid: 7, memoryLimitBytes: 1 << 20 }, root, 5)).toMatchObject({
        cpuNs: 123456789,
        memoryBytes: 4000000,
        // unlimited in the cgroup: the spec's limit (none: the host's)
        memoryLimitBytes: 1 << 20,
        pids: 2,
        blockReadBytes: 10,
        blockWriteBytes: 20,
        netRxBytes: 1500,
      });
      expect(nativeStatsSample('v1', { running: true, pid: 7 }, root).memoryLimitBytes).toBe(totalmem());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

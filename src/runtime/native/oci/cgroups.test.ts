import { afterEach, describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  cgroupDirs,
  cgroupFiles,
  cgroupsPathFor,
  cgroupMountFacts,
  cpuSharesToWeight,
  crunCgroupSupport,
  crunCgroupVerdict,
  detectCgroupMode,
  hierarchyRoots,
  listCgroupDirs,
  missingCgroupDirs,
  parseCgroupNumber,
  readLimits,
  removeCgroup,
  removeEmptyCgroupDirs,
} from './cgroups.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function fakeRoot(): string {
  const r = mkdtempSync(join(tmpdir(), 'tsc-cgroup-'));
  roots.push(r);
  return r;
}

function put(root: string, rel: string, content: string): void {
  const f = join(root, rel);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, content);
}

const V1_CONTROLLERS = ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'systemd'];

/** A v1 tree; `unified` = content of unified/cgroup.controllers (undefined: no unified mount). */
function v1Root(unified?: string): string {
  const r = fakeRoot();
  for (const c of V1_CONTROLLERS) mkdirSync(join(r, 'sys/fs/cgroup', c), { recursive: true });
  if (unified !== undefined) put(r, 'sys/fs/cgroup/unified/cgroup.controllers', unified);
  return r;
}

function v2Root(): string {
  const r = fakeRoot();
  put(r, 'sys/fs/cgroup/cgroup.controllers', 'cpuset cpu io memory hugetlb pids rdma misc\n');
  put(r, 'sys/fs/cgroup/cgroup.subtree_control', 'cpuset cpu io memory pids\n');
  return r;
}

describe('detectCgroupMode', () => {
  test('v2 by cgroup.controllers at the top', () => {
    expect(detectCgroupMode(v2Root())).toBe('v2');
  });
  test('hybrid: v1 plus a unified mount holding controllers', () => {
    expect(detectCgroupMode(v1Root('hugetlb\n'))).toBe('hybrid');
  });
  test('v1 with an empty unified mount is plain v1', () => {
    expect(detectCgroupMode(v1Root(''))).toBe('v1');
    expect(detectCgroupMode(v1Root('\n'))).toBe('v1');
  });
  test('v1 without a unified mount', () => {
    expect(detectCgroupMode(v1Root())).toBe('v1');
  });
  test('no cgroup mount at all → v1', () => {
    expect(detectCgroupMode(fakeRoot())).toBe('v1');
  });
  test('this host answers something sensible', () => {
    expect(['v1', 'v2', 'hybrid']).toContain(detectCgroupMode());
  });
});

describe("crun's cgroup check (crun 1.8: libcrun_get_cgroup_mode + the hybrid check)", () => {
  const CGROUP2 = 0x63677270;
  const TMPFS = 0x01021994;
  const EXT4 = 0xef53;
  test('cgroup2 at /sys/fs/cgroup: fine', () => {
    expect(crunCgroupVerdict({ rootType: CGROUP2, unifiedType: undefined, unifiedControllers: [] })).toEqual({ ok: true, layout: 'cgroup v2' });
  });
  test('v1 tmpfs without a cgroup2 unified mount: fine', () => {
    expect(crunCgroupVerdict({ rootType: TMPFS, unifiedType: undefined, unifiedControllers: [] })).toEqual({ ok: true, layout: 'cgroup v1' });
    // a plain directory called unified is not a cgroup2 mount
    expect(crunCgroupVerdict({ rootType: TMPFS, unifiedType: TMPFS, unifiedControllers: ['hugetlb'] }).ok).toBe(true);
  });
  test('hybrid: fine while the cgroup2 mount holds no controller', () => {
    const ok = crunCgroupVerdict({ rootType: TMPFS, unifiedType: CGROUP2, unifiedControllers: [] });
    expect(ok.ok).toBe(true);
    expect(ok.layout).toBe('cgroup v1, the cgroup2 mount at /sys/fs/cgroup/unified holding no controller');
    const refused = crunCgroupVerdict({ rootType: TMPFS, unifiedType: CGROUP2, unifiedControllers: ['hugetlb'] });
    expect(refused).toEqual({
      ok: false,
      layout: 'hybrid cgroups with hugetlb on the cgroup2 mount at /sys/fs/cgroup/unified, which crun 1.8 refuses',
    });
  });
  test('anything else at /sys/fs/cgroup (or nothing): refused', () => {
    expect(crunCgroupVerdict({ rootType: EXT4, unifiedType: undefined, unifiedControllers: [] }).ok).toBe(false);
    expect(crunCgroupVerdict({ rootType: undefined, unifiedType: undefined, unifiedControllers: [] }).ok).toBe(false);
  });
  test('facts of a fake tree: controllers read and split', () => {
    const f = cgroupMountFacts(v1Root('hugetlb misc\n'));
    expect(f.unifiedControllers).toEqual(['hugetlb', 'misc']);
    expect(f.unifiedType).toBeDefined(); // the directory exists (its filesystem is the test's tmpdir's)
    expect(cgroupMountFacts(v1Root()).unifiedType).toBeUndefined();
  });
  test('this host: agrees with detectCgroupMode on hybrid', () => {
    if (detectCgroupMode() === 'hybrid') expect(crunCgroupSupport().ok).toBe(false);
    if (detectCgroupMode() === 'v2') expect(crunCgroupSupport().ok).toBe(true);
  });
});

describe('cgroupFiles', () => {
  test('cgroupsPathFor', () => {
    expect(cgroupsPathFor('abc')).toBe('/tscompose/abc');
  });

  test('v1 layout: one directory per controller', () => {
    expect(cgroupFiles('v1', '/tscompose/c1')).toEqual({
      memoryLimit: '/sys/fs/cgroup/memory/tscompose/c1/memory.limit_in_bytes',
      memoryReservation: '/sys/fs/cgroup/memory/tscompose/c1/memory.soft_limit_in_bytes',
      memorySwap: '/sys/fs/cgroup/memory/tscompose/c1/memory.memsw.limit_in_bytes',
      cpuQuota: '/sys/fs/cgroup/cpu/tscompose/c1/cpu.cfs_quota_us',
      cpuPeriod: '/sys/fs/cgroup/cpu/tscompose/c1/cpu.cfs_period_us',
      cpuShares: '/sys/fs/cgroup/cpu/tscompose/c1/cpu.shares',
      cpuset: '/sys/fs/cgroup/cpuset/tscompose/c1/cpuset.cpus',
      pidsMax: '/sys/fs/cgroup/pids/tscompose/c1/pids.max',
      freezer: '/sys/fs/cgroup/freezer/tscompose/c1/freezer.state',
      procs: '/sys/fs/cgroup/memory/tscompose/c1/cgroup.procs',
    });
    // hybrid uses the v1 controllers
    expect(cgroupFiles('hybrid', '/tscompose/c1')).toEqual(cgroupFiles('v1', '/tscompose/c1'));
  });

  test('v2 layout: one tree', () => {
    expect(cgroupFiles('v2', '/tscompose/c1', '/fake')).toEqual({
      memoryLimit: '/fake/sys/fs/cgroup/tscompose/c1/memory.max',
      memoryReservation: '/fake/sys/fs/cgroup/tscompose/c1/memory.low',
      memorySwap: '/fake/sys/fs/cgroup/tscompose/c1/memory.swap.max',
      cpuQuota: '/fake/sys/fs/cgroup/tscompose/c1/cpu.max',
      cpuPeriod: '/fake/sys/fs/cgroup/tscompose/c1/cpu.max',
      cpuShares: '/fake/sys/fs/cgroup/tscompose/c1/cpu.weight',
      cpuset: '/fake/sys/fs/cgroup/tscompose/c1/cpuset.cpus',
      pidsMax: '/fake/sys/fs/cgroup/tscompose/c1/pids.max',
      freezer: '/fake/sys/fs/cgroup/tscompose/c1/cgroup.freeze',
      procs: '/fake/sys/fs/cgroup/tscompose/c1/cgroup.procs',
    });
  });

  test('paths cannot climb out of the hierarchy', () => {
    expect(cgroupFiles('v2', '../../etc').memoryLimit).toBe('/sys/fs/cgroup/etc/memory.max');
    expect(cgroupFiles('v1', 'tscompose/../../x').pidsMax).toBe('/sys/fs/cgroup/pids/x/pids.max');
  });
});

describe('parseCgroupNumber', () => {
  test.each([
    ['max', -1],
    ['67108864\n', 67108864],
    ['-1', -1],
    ['9223372036854771712', -1],
    ['9223372036854775807', -1],
    ['0', 0],
    ['garbage', undefined],
  ])('%p → %p', (s, n) => {
    expect(parseCgroupNumber(s)).toBe(n);
  });
});

describe('readLimits', () => {
  test('v1 (and hybrid) files', () => {
    for (const mode of ['v1', 'hybrid'] as const) {
      const r = v1Root(mode === 'hybrid' ? 'hugetlb' : undefined);
      const p = 'sys/fs/cgroup/%c/tscompose/web';
      const at = (c: string, f: string, v: string): void => put(r, `${p.replace('%c', c)}/${f}`, v);
      at('memory', 'memory.limit_in_bytes', '67108864\n');
      at('memory', 'memory.soft_limit_in_bytes', '33554432\n');
      at('memory', 'memory.memsw.limit_in_bytes', '134217728\n');
      at('cpu', 'cpu.cfs_quota_us', '50000\n');
      at('cpu', 'cpu.cfs_period_us', '100000\n');
      at('cpu', 'cpu.shares', '512\n');
      at('cpuset', 'cpuset.cpus', '0\n');
      at('pids', 'pids.max', '20\n');
      at('freezer', 'freezer.state', 'FROZEN\n');
      expect(readLimits(mode, '/tscompose/web', r)).toEqual({
        memoryLimit: 67108864,
        memoryReservation: 33554432,
        memorySwap: 134217728,
        cpuQuota: 50000,
        cpuPeriod: 100000,
        cpuShares: 512,
        cpuset: '0',
        pidsMax: 20,
        frozen: true,
      });
    }
  });

  test('v1 unlimited values and missing files', () => {
    const r = v1Root();
    put(r, 'sys/fs/cgroup/memory/tscompose/x/memory.limit_in_bytes', '9223372036854771712\n');
    put(r, 'sys/fs/cgroup/cpu/tscompose/x/cpu.cfs_quota_us', '-1\n');
    put(r, 'sys/fs/cgroup/pids/tscompose/x/pids.max', 'max\n');
    put(r, 'sys/fs/cgroup/freezer/tscompose/x/freezer.state', 'THAWED\n');
    // no memsw (swap accounting off), no cpuset, no shares
    expect(readLimits('v1', '/tscompose/x', r)).toEqual({ memoryLimit: -1, cpuQuota: -1, pidsMax: -1, frozen: false });
  });

  test('v2 files', () => {
    const r = v2Root();
    const d = 'sys/fs/cgroup/tscompose/web';
    put(r, `${d}/memory.max`, '67108864\n');
    put(r, `${d}/memory.low`, '0\n');
    put(r, `${d}/memory.swap.max`, '67108864\n');
    put(r, `${d}/cpu.max`, '50000 100000\n');
    put(r, `${d}/cpu.weight`, '39\n');
    put(r, `${d}/cpuset.cpus`, '0-1\n');
    put(r, `${d}/pids.max`, '20\n');
    put(r, `${d}/cgroup.freeze`, '0\n');
    expect(readLimits('v2', '/tscompose/web', r)).toEqual({
      memoryLimit: 67108864,
      memoryReservation: 0,
      memorySwap: 134217728, // memory + swap, as OCI/Docker count it
      cpuQuota: 50000,
      cpuPeriod: 100000,
      cpuWeight: 39,
      cpuset: '0-1',
      pidsMax: 20,
      frozen: false,
    });
  });

  test('v2 unlimited values', () => {
    const r = v2Root();
    const d = 'sys/fs/cgroup/tscompose/x';
    put(r, `${d}/memory.max`, 'max\n');
    put(r, `${d}/memory.swap.max`, '1024\n');
    put(r, `${d}/cpu.max`, 'max 100000\n');
    put(r, `${d}/pids.max`, 'max\n');
    put(r, `${d}/cgroup.freeze`, '1\n');
    expect(readLimits('v2', '/tscompose/x', r)).toEqual({
      memoryLimit: -1,
      memorySwap: -1,
      cpuQuota: -1,
      cpuPeriod: 100000,
      pidsMax: -1,
      frozen: true,
    });
    put(r, `${d}/memory.max`, '1000\n');
    put(r, `${d}/memory.swap.max`, 'max\n');
    expect(readLimits('v2', '/tscompose/x', r)).toMatchObject({ memoryLimit: 1000, memorySwap: -1 });
  });

  test('a cgroup that does not exist reads as empty', () => {
    expect(readLimits('v2', '/tscompose/gone', v2Root())).toEqual({});
    expect(readLimits('v1', '/tscompose/gone', v1Root())).toEqual({});
  });
});

describe('hierarchies, listing and removal', () => {
  test('hierarchyRoots: v1 lists every mounted hierarchy but not symlinks; v2 the mount', () => {
    const r = v1Root('hugetlb');
    symlinkSync('cpu', join(r, 'sys/fs/cgroup/cpu,cpuacct'));
    put(r, 'sys/fs/cgroup/some-file', '');
    const roots = hierarchyRoots('hybrid', r).map((h) => h.slice(r.length));
    expect(roots).toEqual([...V1_CONTROLLERS, 'unified'].sort().map((c) => `/sys/fs/cgroup/${c}`));
    const r2 = v2Root();
    expect(hierarchyRoots('v2', r2)).toEqual([join(r2, 'sys/fs/cgroup')]);
    expect(cgroupDirs('v2', '/tscompose/a', r2)).toEqual([join(r2, 'sys/fs/cgroup/tscompose/a')]);
  });

  test('listCgroupDirs and removeCgroup on v1/hybrid', async () => {
    const r = v1Root('hugetlb');
    for (const c of ['memory', 'cpu', 'pids', 'unified', 'systemd']) {
      mkdirSync(join(r, 'sys/fs/cgroup', c, 'tscompose/a'), { recursive: true });
    }
    mkdirSync(join(r, 'sys/fs/cgroup/memory/tscompose/b'), { recursive: true });
    mkdirSync(join(r, 'sys/fs/cgroup/memory/tscompose/a/child/grandchild'), { recursive: true });
    mkdirSync(join(r, 'sys/fs/cgroup/memory/other/z'), { recursive: true });
    put(r, 'sys/fs/cgroup/memory/tscompose/not-a-dir', '');

    const strip = (xs: string[]): string[] => xs.map((x) => x.slice(r.length));
    expect(strip(listCgroupDirs('/tscompose', r))).toEqual([
      '/sys/fs/cgroup/cpu/tscompose/a',
      '/sys/fs/cgroup/memory/tscompose/a',
      '/sys/fs/cgroup/memory/tscompose/b',
      '/sys/fs/cgroup/pids/tscompose/a',
      '/sys/fs/cgroup/systemd/tscompose/a',
      '/sys/fs/cgroup/unified/tscompose/a',
    ]);

    await removeCgroup('hybrid', '/tscompose/a', { fsRoot: r });
    expect(strip(listCgroupDirs('/tscompose', r))).toEqual(['/sys/fs/cgroup/memory/tscompose/b']);
    // parents and unrelated cgroups stay
    expect(existsSync(join(r, 'sys/fs/cgroup/memory/tscompose'))).toBe(true);
    expect(existsSync(join(r, 'sys/fs/cgroup/memory/other/z'))).toBe(true);
    // idempotent: ENOENT everywhere is fine
    await expect(removeCgroup('hybrid', '/tscompose/a', { fsRoot: r })).resolves.toBeUndefined();
  });

  test('listCgroupDirs and removeCgroup on v2', async () => {
    const r = v2Root();
    mkdirSync(join(r, 'sys/fs/cgroup/tscompose/a/init'), { recursive: true });
    mkdirSync(join(r, 'sys/fs/cgroup/tscompose/b'), { recursive: true });
    expect(detectCgroupMode(r)).toBe('v2');
    expect(listCgroupDirs(undefined, r)).toEqual([join(r, 'sys/fs/cgroup/tscompose/a'), join(r, 'sys/fs/cgroup/tscompose/b')]);
    await removeCgroup('v2', '/tscompose/a', { fsRoot: r });
    expect(listCgroupDirs('/tscompose', r, 'v2')).toEqual([join(r, 'sys/fs/cgroup/tscompose/b')]);
  });

  test('listCgroupDirs without the parent is empty', () => {
    expect(listCgroupDirs('/tscompose', v2Root())).toEqual([]);
    expect(listCgroupDirs('/tscompose', v1Root())).toEqual([]);
  });

  test('removeCgroup reports errors other than ENOENT', async () => {
    const r = v2Root();
    // a regular file inside the leaf makes rmdir fail with ENOTEMPTY on a normal filesystem
    put(r, 'sys/fs/cgroup/tscompose/busy/file', 'x');
    await expect(removeCgroup('v2', '/tscompose/busy', { fsRoot: r })).rejects.toMatchObject({ code: 'ENOTEMPTY' });
  });

  test('removeCgroup refuses the hierarchy root', async () => {
    await expect(removeCgroup('v2', '/', { fsRoot: v2Root() })).rejects.toThrow(/hierarchy root/);
  });
});

test('cpuSharesToWeight', () => {
  expect(cpuSharesToWeight(1024)).toBe(39);
  expect(cpuSharesToWeight(2)).toBe(1);
  expect(cpuSharesToWeight(262144)).toBe(10000);
  expect(cpuSharesToWeight(1024, 'crun')).toBe(100);
  expect(cpuSharesToWeight(2, 'crun')).toBe(1);
  expect(cpuSharesToWeight(262144, 'crun')).toBe(10000);
  expect(cpuSharesToWeight(0)).toBe(0);
});

describe('cgroup_parent', () => {
  test('cgroupsPathFor: under /tscompose, or under the parent taken from the root; `..` clamped', () => {
    expect(cgroupsPathFor('abc')).toBe('/tscompose/abc');
    expect(cgroupsPathFor('abc', '/my-parent')).toBe('/my-parent/abc');
    expect(cgroupsPathFor('abc', 'my-parent/')).toBe('/my-parent/abc');
    expect(cgroupsPathFor('abc', 'a/b')).toBe('/a/b/abc');
    expect(cgroupsPathFor('abc', '../../etc')).toBe('/etc/abc');
    expect(cgroupsPathFor('abc', '')).toBe('/tscompose/abc');
  });

  test('missingCgroupDirs lists the components not there yet, in every hierarchy; removeEmptyCgroupDirs removes them when empty', () => {
    const r = v1Root();
    mkdirSync(join(r, 'sys/fs/cgroup/memory/a'));
    const missing = missingCgroupDirs('/a/b', r, 'v1').map((d) => d.slice(r.length));
    expect(missing).toContain('/sys/fs/cgroup/memory/a/b');
    expect(missing).not.toContain('/sys/fs/cgroup/memory/a');
    expect(missing).toContain('/sys/fs/cgroup/blkio/a');
    expect(missing).toContain('/sys/fs/cgroup/blkio/a/b');
    const abs = missingCgroupDirs('/a/b', r, 'v1');
    for (const d of abs) mkdirSync(d, { recursive: true });
    // one still in use (a child cgroup): it and its parents stay
    mkdirSync(join(r, 'sys/fs/cgroup/pids/a/b/busy'));
    removeEmptyCgroupDirs([...abs, join(r, 'sys/fs/cgroup/cpu'), '/etc'], r);
    expect(existsSync(join(r, 'sys/fs/cgroup/blkio/a'))).toBe(false);
    expect(existsSync(join(r, 'sys/fs/cgroup/memory/a/b'))).toBe(false);
    expect(existsSync(join(r, 'sys/fs/cgroup/memory/a'))).toBe(true); // existed before: not listed
    expect(existsSync(join(r, 'sys/fs/cgroup/pids/a/b/busy'))).toBe(true);
    expect(existsSync(join(r, 'sys/fs/cgroup/cpu'))).toBe(true); // a hierarchy root is never removed
  });
});

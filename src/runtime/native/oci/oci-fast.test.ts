import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crunCgroupDirs, fastDeleteStopped, fastKill, processStartTime, readFastState, readRuncState, removeCgroupDir } from './oci-fast.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-oci-fast-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function state(id: string, s: object): string {
  const root = join(dir, 'root');
  mkdirSync(join(root, id), { recursive: true });
  writeFileSync(join(root, id, 'state.json'), JSON.stringify(s));
  return root;
}
const ownPid = {
  namespaces: [
    { type: 'NEWNS', path: '' },
    { type: 'NEWPID', path: '' },
  ],
};
const sharedPid = {
  namespaces: [
    { type: 'NEWNS', path: '' },
    { type: 'NEWPID', path: '/proc/1/ns/pid' },
  ],
};

function sleeper(): Promise<{ pid: number; exited: Promise<NodeJS.Signals | null> }> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
  return new Promise((resolve) => child.on('spawn', () => resolve({ pid: child.pid!, exited })));
}

describe('processStartTime', () => {
  test('reads field 22 even when the command name has spaces and parentheses', async () => {
    expect(await processStartTime(process.pid)).toBeGreaterThan(0);
    expect(await processStartTime(2 ** 22 + 7)).toBeUndefined();
  });
});

describe('fastKill', () => {
  test('signals the init process when it is the recorded one', async () => {
    const p = await sleeper();
    const root = state('a', { init_process_pid: p.pid, init_process_start: await processStartTime(p.pid), config: ownPid });
    expect(await fastKill(root, 'a', 15, false)).toBe(true);
    expect(await p.exited).toBe('SIGTERM');
  });

  test('leaves a reused pid (other start time) to runc', async () => {
    const p = await sleeper();
    const root = state('b', { init_process_pid: p.pid, init_process_start: 1, config: ownPid });
    expect(await fastKill(root, 'b', 15, false)).toBe(false);
    process.kill(p.pid, 'SIGKILL');
    expect(await p.exited).toBe('SIGKILL');
  });

  test('--all only for SIGKILL with its own pid namespace; no state, no fast path', async () => {
    const p = await sleeper();
    const start = await processStartTime(p.pid);
    expect(await fastKill(state('c', { init_process_pid: p.pid, init_process_start: start, config: sharedPid }), 'c', 9, true)).toBe(false);
    expect(await fastKill(state('c2', { init_process_pid: p.pid, init_process_start: start, config: ownPid }), 'c2', 15, true)).toBe(false);
    expect(await fastKill(join(dir, 'root'), 'missing', 9, false)).toBe(false);
    expect(await fastKill(state('c3', { init_process_pid: p.pid, init_process_start: start, config: ownPid }), 'c3', 9, true)).toBe(true);
    expect(await p.exited).toBe('SIGKILL');
    expect(await readRuncState(join(dir, 'root'), 'missing')).toBeUndefined();
  });
});

describe('fastDeleteStopped', () => {
  test('removes the cgroups (nested too) and the state once init is gone', async () => {
    const p = await sleeper();
    const start = await processStartTime(p.pid);
    const cg = join(dir, 'sys-fs-cgroup');
    mkdirSync(join(cg, 'memory', 'x', 'sub'), { recursive: true });
    mkdirSync(join(cg, 'pids', 'x'), { recursive: true });
    // Paths must be under /sys/fs/cgroup: a test tree elsewhere is refused, then accepted through removeCgroupDir.
    const root = state('d', {
      init_process_pid: p.pid,
      init_process_start: start,
      config: ownPid,
      cgroup_paths: { memory: join(cg, 'memory', 'x'), pids: join(cg, 'pids', 'x') },
    });
    expect(await fastDeleteStopped(root, 'd')).toBe(false); // init still running
    process.kill(p.pid, 'SIGKILL');
    await p.exited;
    expect(await fastDeleteStopped(root, 'd')).toBe(false); // not under /sys/fs/cgroup
    expect(existsSync(join(root, 'd'))).toBe(true);
    expect(await removeCgroupDir(join(cg, 'memory', 'x'))).toBe(true);
    expect(existsSync(join(cg, 'memory', 'x'))).toBe(false);
    expect(await removeCgroupDir(join(cg, 'gone'))).toBe(true);
  });

  test('a cgroup that will not go (not empty) is left to runc', async () => {
    const cg = join(dir, 'busy');
    mkdirSync(cg, { recursive: true });
    writeFileSync(join(cg, 'file'), '');
    expect(await removeCgroupDir(cg, 2)).toBe(false);
  });

  test('no cgroups: the state directory goes; hooks, shared pid namespaces and RDT need runc', async () => {
    const dead = 2 ** 22 + 11;
    const root = state('e', { init_process_pid: dead, init_process_start: 5, config: ownPid, cgroup_paths: {} });
    expect(await fastDeleteStopped(root, 'e')).toBe(true);
    expect(existsSync(join(root, 'e'))).toBe(false);
    expect(await fastDeleteStopped(state('f', { init_process_pid: dead, init_process_start: 5, config: sharedPid }), 'f')).toBe(false);
    expect(
      await fastDeleteStopped(
        state('g', { init_process_pid: dead, init_process_start: 5, config: { ...ownPid, hooks: { poststop: [{ path: '/x' }] } } }),
        'g',
      ),
    ).toBe(false);
    expect(await fastDeleteStopped(state('h', { init_process_pid: dead, init_process_start: 5, config: ownPid, intel_rdt_path: '/x' }), 'h')).toBe(
      false,
    );
  });
});

describe("crun's state (status + config.json)", () => {
  function crunState(id: string, status: object, config: object): string {
    const root = join(dir, 'crun-root');
    mkdirSync(join(root, id), { recursive: true });
    writeFileSync(join(root, id, 'status'), JSON.stringify(status));
    writeFileSync(join(root, id, 'config.json'), JSON.stringify(config));
    return root;
  }
  const crunOwnPid = { linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] } };
  const crunSharedPid = { linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: '/proc/1/ns/pid' }] } };

  test('kill: signals the recorded init (--all only with SIGKILL and its own pid namespace)', async () => {
    const p = await sleeper();
    const start = await processStartTime(p.pid);
    const shared = crunState('k1', { pid: p.pid, 'process-start-time': start, 'cgroup-path': '' }, crunSharedPid);
    expect(await fastKill(shared, 'k1', 9, true)).toBe(false);
    const root = crunState('k2', { pid: p.pid, 'process-start-time': start, 'cgroup-path': '' }, crunOwnPid);
    expect(await readFastState(root, 'k2')).toMatchObject({ pid: p.pid, startTime: start, ownPidNamespace: true, needsRuntime: false });
    expect(await fastKill(root, 'k2', 9, true)).toBe(true);
    expect(await p.exited).toBe('SIGKILL');
  });

  test('delete: the state directory goes once init is gone; systemd cgroups and hooks need crun', async () => {
    const dead = 2 ** 22 + 13;
    const root = crunState('d1', { pid: dead, 'process-start-time': 5, 'cgroup-path': '' }, crunOwnPid);
    expect(await fastDeleteStopped(root, 'd1')).toBe(true);
    expect(existsSync(join(root, 'd1'))).toBe(false);
    expect(await fastDeleteStopped(crunState('d2', { pid: dead, 'process-start-time': 5, 'systemd-cgroup': true }, crunOwnPid), 'd2')).toBe(false);
    expect(
      await fastDeleteStopped(
        crunState('d3', { pid: dead, 'process-start-time': 5 }, { ...crunOwnPid, hooks: { poststop: [{ path: '/x' }] } }),
        'd3',
      ),
    ).toBe(false);
    expect(await fastDeleteStopped(crunState('d4', { pid: dead, 'process-start-time': 5 }, crunSharedPid), 'd4')).toBe(false);
  });

  test('config.json read once per file, and again when it was replaced (another container under the same id)', async () => {
    const dead = 2 ** 22 + 17;
    const root = crunState('c1', { pid: dead, 'process-start-time': 5 }, crunOwnPid);
    expect(await readFastState(root, 'c1')).toMatchObject({ ownPidNamespace: true, needsRuntime: false });
    expect(await readFastState(root, 'c1')).toMatchObject({ ownPidNamespace: true, needsRuntime: false });
    // Replaced as a new container's would be (new inode): the new content counts.
    const cfg = join(root, 'c1', 'config.json');
    rmSync(cfg);
    writeFileSync(cfg, JSON.stringify({ ...crunSharedPid, hooks: { poststop: [{ path: '/x' }] } }));
    expect(await readFastState(root, 'c1')).toMatchObject({ ownPidNamespace: false, needsRuntime: true });
  });

  test('a cgroup path is found in every v1 hierarchy, or once on cgroup v2; an empty one in none', () => {
    const v1 = join(dir, 'v1');
    for (const c of ['memory', 'pids', 'unified']) mkdirSync(join(v1, 'sys/fs/cgroup', c), { recursive: true });
    expect(crunCgroupDirs('/tscompose/x', v1)).toEqual(['memory', 'pids', 'unified'].map((c) => join(v1, 'sys/fs/cgroup', c, 'tscompose/x')));
    expect(crunCgroupDirs('/', v1)).toEqual([]);
    const v2 = join(dir, 'v2');
    mkdirSync(join(v2, 'sys/fs/cgroup'), { recursive: true });
    writeFileSync(join(v2, 'sys/fs/cgroup', 'cgroup.controllers'), 'cpu memory\n');
    expect(crunCgroupDirs('/tscompose/x', v2)).toEqual([join(v2, 'sys/fs/cgroup', 'tscompose/x')]);
    expect(crunCgroupDirs('', v2)).toEqual([]);
  });
});

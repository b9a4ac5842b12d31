/**
 * End-to-end: the native runtime on each OCI runtime, forced with TSCOMPOSE_OCI_RUNTIME, so that runc stays tested
 * where crun is chosen (and crun where runc is): runc always, crun where it can run (crun 1.8 refuses hybrid cgroup
 * hosts whose cgroup2 mount holds a controller; scripts/engine-env.sh moves this project's machines' hugetlb to v1).
 * For each: `up -d` of a service with memory, pids and cpu-shares limits, its OCI state is that runtime's, the
 * limits are in its cgroup (cpu shares on v1 as asked, on v2 as cpu.weight by that runtime's own mapping), exec,
 * a missing command's 127, stop and start, `down` leaves no cgroup and no OCI state. Then a container made by runc
 * is exec'd into and stopped while crun is the choice, started again (by crun now) and removed while runc is the
 * choice: each command goes to the runtime that made the container. `tscompose version --verbose` names the runtime chosen.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync } from 'node:fs';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';
import { cpuSharesToWeight, crunCgroupSupport, detectCgroupMode, listCgroupDirs, readLimits } from '../../src/runtime/native/oci/cgroups.js';
import { ociStateKind, whichSync, type OciRuntimeName } from '../../src/runtime/native/oci/oci-choice.js';
import { nativePaths } from '../../src/runtime/native/state.js';

const suite = new NativeSuite();
const ociRoot = nativePaths({ stateDir: suite.env['TSCOMPOSE_STATE_DIR'], runDir: suite.env['TSCOMPOSE_RUN_DIR'] }).ociRoot;
const crunUsable = whichSync('crun') !== undefined && crunCgroupSupport().ok;
const runcUsable = whichSync('runc') !== undefined;
const run = nativeDescribe ? describe : describe.skip;

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
  if (!crunUsable)
    process.stderr.write(`native-oci-runtimes: crun tests skipped: ${whichSync('crun') ? crunCgroupSupport().layout : 'crun not installed'}\n`);
});
afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

const COMPOSE = `services:
  s:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    mem_limit: 64m
    pids_limit: 30
    cpu_shares: 512
`;

function as(runtime: OciRuntimeName): void {
  suite.env['TSCOMPOSE_OCI_RUNTIME'] = runtime;
}

function psJson(p: NativeProject): { ID: string; State: string } {
  const lines = ok(suite.ts(p, 'ps', '-a', '--format', 'json', 's'))
    .trim()
    .split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as { ID: string; State: string };
}

function containerId(p: NativeProject): string {
  const id = psJson(p).ID;
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  return id;
}

const state = (p: NativeProject): string => psJson(p).State;

function ociStates(): string[] {
  return existsSync(ociRoot) ? readdirSync(ociRoot).filter((n) => /^[0-9a-f]{64}$/.test(n)) : [];
}

run('the native runtime on runc and on crun', () => {
  const runtimes = (['runc', 'crun'] as const).filter((r) => (r === 'runc' ? runcUsable : crunUsable));

  test.each(runtimes)(
    'TSCOMPOSE_OCI_RUNTIME=%s: up with limits, exec, stop/start, down',
    (runtime) => {
      as(runtime);
      expect(ok(suite.ts(undefined, 'version', '--verbose'))).toContain(`native OCI runtime: ${runtime} (`);
      const p = suite.project({ 'compose.yaml': COMPOSE });
      ok(suite.ts(p, 'up', '-d'));
      const id = containerId(p);
      expect(ociStateKind(ociRoot, id)).toBe(runtime);
      const mode = detectCgroupMode();
      const limits = readLimits(mode, `/tscompose/${id}`);
      expect(limits.memoryLimit).toBe(64 * 1024 * 1024);
      expect(limits.pidsMax).toBe(30);
      if (mode === 'v2') expect(limits.cpuWeight).toBe(cpuSharesToWeight(512, runtime));
      else expect(limits.cpuShares).toBe(512);
      expect(ok(suite.ts(p, 'exec', '-T', 's', 'echo', 'in-container')).trim()).toBe('in-container');
      expect(suite.ts(p, 'exec', '-T', 's', 'no-such-command').status).toBe(127); // each runtime words it its own way
      ok(suite.ts(p, 'stop', '-t', '1', 's'));
      expect(state(p)).toBe('exited');
      ok(suite.ts(p, 'start', 's'));
      expect(state(p)).toBe('running');
      expect(ociStateKind(ociRoot, id)).toBe(runtime);
      ok(suite.ts(p, 'down', '-t', '1'));
      expect(listCgroupDirs('/tscompose').filter((d) => d.includes(id))).toEqual([]);
      expect(ociStates()).not.toContain(id);
    },
    120_000,
  );

  (runcUsable && crunUsable ? test : test.skip)(
    'a container stays with the runtime that made it when the choice changes',
    () => {
      as('runc');
      const p = suite.project({ 'compose.yaml': COMPOSE });
      ok(suite.ts(p, 'up', '-d'));
      const id = containerId(p);
      expect(ociStateKind(ociRoot, id)).toBe('runc');
      // crun chosen now: the runc container is still exec'd into and stopped (by runc) ...
      as('crun');
      expect(ok(suite.ts(p, 'exec', '-T', 's', 'echo', 'still-runc')).trim()).toBe('still-runc');
      ok(suite.ts(p, 'stop', '-t', '1', 's'));
      expect(state(p)).toBe('exited');
      // ... and started again by crun
      ok(suite.ts(p, 'start', 's'));
      expect(ociStateKind(ociRoot, id)).toBe('crun');
      expect(readLimits(detectCgroupMode(), `/tscompose/${id}`).memoryLimit).toBe(64 * 1024 * 1024);
      // runc chosen again: the crun container is removed (by crun), nothing left
      as('runc');
      ok(suite.ts(p, 'down', '-t', '1'));
      expect(listCgroupDirs('/tscompose').filter((d) => d.includes(id))).toEqual([]);
      expect(ociStates()).not.toContain(id);
      expect(suite.leftovers()).toEqual([]);
    },
    120_000,
  );
});

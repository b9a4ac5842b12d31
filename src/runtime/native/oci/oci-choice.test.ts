import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errOf } from './__fixtures__/spec-input.js';
import { crunCgroupSupport, type CrunCgroupCheck } from './cgroups.js';
import { chooseOciRuntime, ociRuntimeNameOf, ociStateKind, whichSync, type OciRuntimeProbe } from './oci-choice.js';
import { OciRuntime } from './oci-runtime.js';

const CRUN_OK: CrunCgroupCheck = { ok: true, layout: 'cgroup v2' };
const V1_EMPTY_UNIFIED: CrunCgroupCheck = { ok: true, layout: 'cgroup v1, the cgroup2 mount at /sys/fs/cgroup/unified holding no controller' };
const HYBRID: CrunCgroupCheck = {
  ok: false,
  layout: 'hybrid cgroups with hugetlb on the cgroup2 mount at /sys/fs/cgroup/unified, which crun 1.8 refuses',
};

function probe(bins: Record<string, string>, crun: CrunCgroupCheck, executables: string[] = []): OciRuntimeProbe {
  return { which: (c) => bins[c], crunCgroups: () => crun, isExecutable: (f) => executables.includes(f) };
}

describe('chooseOciRuntime', () => {
  const both = { runc: '/usr/sbin/runc', crun: '/usr/bin/crun' };

  test('crun wherever it can run: v2, v1, v1 with an empty cgroup2 mount', () => {
    expect(chooseOciRuntime(undefined, probe(both, CRUN_OK))).toEqual({
      name: 'crun',
      path: '/usr/bin/crun',
      reason: "crun runs on this host's cgroups (cgroup v2)",
    });
    const c = chooseOciRuntime(undefined, probe(both, V1_EMPTY_UNIFIED));
    expect(c).toMatchObject({ name: 'crun', path: '/usr/bin/crun' });
    expect(c.reason).toMatch(/holding no controller/);
  });
  test('runc where crun cannot run, and the reason says why', () => {
    const c = chooseOciRuntime(undefined, probe(both, HYBRID));
    expect(c).toMatchObject({ name: 'runc', path: '/usr/sbin/runc' });
    expect(c.reason).toBe(
      "crun cannot run on this host's cgroups: hybrid cgroups with hugetlb on the cgroup2 mount at /sys/fs/cgroup/unified, which crun 1.8 refuses; runc can",
    );
  });
  test('runc when crun is missing (the cgroups are not even looked at)', () => {
    const p: OciRuntimeProbe = {
      ...probe({ runc: '/usr/sbin/runc' }, CRUN_OK),
      crunCgroups: () => {
        throw new Error('not asked');
      },
    };
    expect(chooseOciRuntime(undefined, p)).toEqual({ name: 'runc', path: '/usr/sbin/runc', reason: 'crun is not installed' });
  });
  test('nothing installed', () => {
    const e = errOf(() => chooseOciRuntime(undefined, probe({}, CRUN_OK)));
    expect(e.code).toBe('TSC_OCI_RUNTIME_MISSING');
    expect(e.hint).toMatch(/apt-get install runc/);
  });
  test('only crun, where it cannot run', () => {
    const e = errOf(() => chooseOciRuntime(undefined, probe({ crun: '/usr/bin/crun' }, HYBRID)));
    expect(e.code).toBe('TSC_OCI_RUNTIME_MISSING');
    expect(e.message).toMatch(/hybrid/);
  });
  test('TSCOMPOSE_OCI_RUNTIME=runc|crun wins, with a warning for crun where it cannot run', () => {
    expect(chooseOciRuntime('runc', probe(both, CRUN_OK))).toEqual({ name: 'runc', path: '/usr/sbin/runc', reason: 'TSCOMPOSE_OCI_RUNTIME=runc' });
    expect(chooseOciRuntime('crun', probe(both, CRUN_OK)).reason).toBe('TSCOMPOSE_OCI_RUNTIME=crun');
    const c = chooseOciRuntime('crun', probe(both, HYBRID));
    expect(c).toMatchObject({ name: 'crun', path: '/usr/bin/crun' });
    expect(c.reason).toMatch(/warning: crun cannot run on this host's cgroups: hybrid/);
    expect(errOf(() => chooseOciRuntime('crun', probe({ runc: '/r' }, CRUN_OK))).code).toBe('TSC_OCI_RUNTIME_MISSING');
  });
  test('TSCOMPOSE_OCI_RUNTIME as an absolute path', () => {
    const p = probe({}, CRUN_OK, ['/opt/crun-1.19/bin/crun', '/opt/runc.amd64']);
    expect(chooseOciRuntime('/opt/crun-1.19/bin/crun', p)).toMatchObject({ name: 'crun', path: '/opt/crun-1.19/bin/crun' });
    expect(chooseOciRuntime('/opt/runc.amd64', p)).toMatchObject({ name: 'runc', path: '/opt/runc.amd64' });
    expect(errOf(() => chooseOciRuntime('/nope/runc', p)).code).toBe('TSC_OCI_RUNTIME_MISSING');
  });
  test('TSCOMPOSE_OCI_RUNTIME garbage', () => {
    expect(errOf(() => chooseOciRuntime('youki', probe({}, CRUN_OK))).code).toBe('TSC_OCI_RUNTIME_INVALID');
  });
  test('empty TSCOMPOSE_OCI_RUNTIME is ignored', () => {
    expect(chooseOciRuntime(' ', probe(both, CRUN_OK)).name).toBe('crun');
  });
  test('the real host: crun exactly when installed and its cgroup check passes', () => {
    if (!whichSync('runc') && !whichSync('crun')) return;
    const c = chooseOciRuntime(undefined);
    expect(c.name).toBe(whichSync('crun') && crunCgroupSupport().ok ? 'crun' : 'runc');
  });
  test('ociRuntimeNameOf', () => {
    expect(ociRuntimeNameOf('/usr/bin/crun')).toBe('crun');
    expect(ociRuntimeNameOf('/usr/sbin/runc')).toBe('runc');
    expect(ociRuntimeNameOf('/opt/oci-create-start.sh')).toBe('runc');
  });
});

describe('whichSync', () => {
  test('finds sh on PATH and runc-like tools in sbin dirs without PATH', () => {
    expect(whichSync('sh', '/usr/bin:/bin')).toMatch(/\/sh$/);
    expect(whichSync('definitely-not-a-command-xyz', '')).toBeUndefined();
  });
});

describe('a container stays with the runtime that made it', () => {
  let dir: string;
  let root: string;
  const fake = (name: string): string => {
    const bin = join(dir, name);
    writeFileSync(bin, `#!/bin/sh\necho "${name} $*" >> "${dir}/argv.log"\nexit 0\n`);
    chmodSync(bin, 0o755);
    return bin;
  };
  let runc: string;
  let crun: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-oci-choice-'));
    root = join(dir, 'root');
    runc = fake('runc');
    crun = fake('crun');
    mkdirSync(join(root, 'byrunc'), { recursive: true });
    writeFileSync(join(root, 'byrunc', 'state.json'), '{}');
    mkdirSync(join(root, 'bycrun'), { recursive: true });
    writeFileSync(join(root, 'bycrun', 'status'), '{}');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('ociStateKind reads the state directory format', () => {
    expect(ociStateKind(root, 'byrunc')).toBe('runc');
    expect(ociStateKind(root, 'bycrun')).toBe('crun');
    expect(ociStateKind(root, 'none')).toBeUndefined();
  });

  test('forContainer: the other runtime for its containers, this one for its own and for new ones', () => {
    const viaCrun = new OciRuntime(crun, root, { binaries: { runc } });
    expect(viaCrun.forContainer('byrunc').binary).toBe(runc);
    expect(viaCrun.forContainer('byrunc')).toBe(viaCrun.forContainer('byrunc')); // made once
    expect(viaCrun.forContainer('bycrun')).toBe(viaCrun);
    expect(viaCrun.forContainer('new')).toBe(viaCrun);
    // What exec, healthchecks and builds launch for it: that runtime (no read-only mount configured here).
    expect(viaCrun.forContainer('byrunc').exe).toBe(runc);
    const viaRunc = new OciRuntime(runc, root, { binaries: { crun } });
    expect(viaRunc.forContainer('bycrun').binary).toBe(crun);
    expect(viaRunc.forContainer('byrunc')).toBe(viaRunc);
  });

  test('kill, delete, pause, resume go to the runtime that made the container', async () => {
    const viaCrun = new OciRuntime(crun, root, { binaries: { runc }, noFastPaths: true });
    await viaCrun.kill('byrunc', 'SIGKILL');
    await viaCrun.delete('byrunc', true);
    await viaCrun.pause('bycrun');
    await viaCrun.resume('byrunc');
    expect(readFileSync(join(dir, 'argv.log'), 'utf8').trim().split('\n')).toEqual([
      `runc --root ${root} kill byrunc SIGKILL`,
      `runc --root ${root} delete --force byrunc`,
      `crun --root ${root} pause bycrun`,
      `runc --root ${root} resume byrunc`,
    ]);
  });
});

/** buildOciSpec: the process (args, env, cwd, capabilities) and its helpers in process.ts. The rest is in oci-spec.test.ts. */
import { describe, expect, test } from '@jest/globals';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, DEFAULT_PATH_ENV } from './defaults.js';
import { BUSYBOX, errOf, input } from './__fixtures__/spec-input.js';
import { buildOciSpec } from './oci-spec.js';
import { computeCapabilities, mergeArgs, mergeEnv, normalizeCapability, replaceOrAppendEnv, withTtyTerm } from './process.js';
import type { ImageRunConfig } from './spec-types.js';

describe('process.args merge', () => {
  const IMG = { Entrypoint: ['/entry.sh'], Cmd: ['serve', '--port', '80'] };
  test.each([
    // [compose entrypoint, compose command, image, expected]
    ['image entrypoint + cmd', undefined, undefined, IMG, ['/entry.sh', 'serve', '--port', '80']],
    ['command replaces image Cmd', undefined, ['run'], IMG, ['/entry.sh', 'run']],
    ['entrypoint drops image Cmd', ['/bin/other'], undefined, IMG, ['/bin/other']],
    ['entrypoint + command', ['/bin/other'], ['x', 'y'], IMG, ['/bin/other', 'x', 'y']],
    ['empty entrypoint + command', [], ['echo', 'hi'], IMG, ['echo', 'hi']],
    ['[""] entrypoint + command', [''], ['echo', 'hi'], IMG, ['echo', 'hi']],
    ['empty command = unset', undefined, [], IMG, ['/entry.sh', 'serve', '--port', '80']],
    ['image Cmd only', undefined, undefined, { Cmd: ['sh'] }, ['sh']],
    ['image Entrypoint only', undefined, undefined, { Entrypoint: ['/e'] }, ['/e']],
    ['image Entrypoint only + command', undefined, ['a'], { Entrypoint: ['/e'] }, ['/e', 'a']],
    ['image Cmd + entrypoint', ['/e'], undefined, { Cmd: ['sh'] }, ['/e']],
    ['nothing in image, command', undefined, ['ls'], {}, ['ls']],
    ['nothing in image, entrypoint', ['/e', '-x'], undefined, {}, ['/e', '-x']],
    ['null image fields', undefined, ['ls'], { Entrypoint: null, Cmd: null }, ['ls']],
  ] as [string, string[] | undefined, string[] | undefined, ImageRunConfig, string[]][])('%s', (_n, entrypoint, command, image, expected) => {
    const spec = { ...(entrypoint ? { entrypoint } : {}), ...(command ? { command } : {}) };
    expect(mergeArgs(spec, image)).toEqual(expected);
    expect(buildOciSpec(input(spec, { image })).process.args).toEqual(expected);
  });

  test.each([
    ['empty everything', undefined, undefined, {}],
    ['empty entrypoint drops image Cmd', [], undefined, { Cmd: ['sh'] }],
    ['[""] entrypoint drops image Cmd', [''], undefined, { Cmd: ['sh'] }],
    ['empty command and empty image', undefined, [], { Cmd: [] }],
  ] as [string, string[] | undefined, string[] | undefined, ImageRunConfig][])('no command: %s', (_n, entrypoint, command, image) => {
    const spec = { ...(entrypoint ? { entrypoint } : {}), ...(command ? { command } : {}) };
    const e = errOf(() => buildOciSpec(input(spec, { image })));
    expect(e.code).toBe('TSC_NO_COMMAND');
    expect(e.message).toBe('no command specified');
  });
});

describe('process.env', () => {
  test('image Env overridden by compose, PATH and HOSTNAME first (Docker order)', () => {
    const image = { Env: ['PATH=/opt/bin:/usr/bin', 'LANG=C', 'KEEP=1'], Cmd: ['x'] };
    const s = buildOciSpec(input({ env: ['LANG=en_US.UTF-8', 'NEW=2'] }, { image, hostname: 'h1' }));
    expect(s.process.env).toEqual(['PATH=/opt/bin:/usr/bin', 'HOSTNAME=h1', 'LANG=en_US.UTF-8', 'NEW=2', 'KEEP=1']);
  });

  test('PATH default when nobody sets it; HOSTNAME can be overridden', () => {
    expect(mergeEnv(undefined, ['HOSTNAME=custom', 'A=='], 'h')).toEqual([`PATH=${DEFAULT_PATH_ENV}`, 'HOSTNAME=custom', 'A==']);
  });

  test('compose PATH wins over image PATH', () => {
    expect(mergeEnv(['PATH=/img'], ['PATH=/mine'], 'h')).toEqual(['PATH=/mine', 'HOSTNAME=h']);
  });

  test('values may be empty or contain =', () => {
    expect(mergeEnv(['A=1'], ['A=', 'B=x=y'], 'h')).toEqual([`PATH=${DEFAULT_PATH_ENV}`, 'HOSTNAME=h', 'A=', 'B=x=y']);
  });

  test('tty: a terminal, and TERM=xterm after HOSTNAME unless compose or the image sets TERM (Docker)', () => {
    const s = buildOciSpec(input({ tty: true, env: ['A=1'] }, { hostname: 'h1' }));
    expect(s.process.terminal).toBe(true);
    expect(s.process.env.slice(0, 4)).toEqual([`PATH=${DEFAULT_PATH_ENV}`, 'HOSTNAME=h1', 'TERM=xterm', 'A=1']);
    expect(mergeEnv(['TERM=linux'], [], 'h', true)).toEqual([`PATH=${DEFAULT_PATH_ENV}`, 'HOSTNAME=h', 'TERM=linux']);
    const plain = buildOciSpec(input({}, {}));
    expect(plain.process.terminal).toBe(false);
    expect(plain.process.env.some((e) => e.startsWith('TERM='))).toBe(false);
  });

  test('withTtyTerm: TERM=xterm after HOSTNAME, unless there is one', () => {
    expect(withTtyTerm(['PATH=/bin', 'HOSTNAME=h', 'A=1'])).toEqual(['PATH=/bin', 'HOSTNAME=h', 'TERM=xterm', 'A=1']);
    expect(withTtyTerm(['A=1'])).toEqual(['TERM=xterm', 'A=1']);
    expect(withTtyTerm(['TERM=dumb'])).toEqual(['TERM=dumb']);
  });

  test('a key without = unsets', () => {
    expect(replaceOrAppendEnv(['A=1', 'B=2'], ['A', 'C=3', 'C=4'])).toEqual(['B=2', 'C=4']);
  });

  test('HOME from the resolved user when absent', () => {
    const s = buildOciSpec(input({}, { user: { uid: 1000, gid: 1000, additionalGids: [], home: '/home/app' } }));
    expect(s.process.env.at(-1)).toBe('HOME=/home/app');
    expect(s.process.user).toEqual({ uid: 1000, gid: 1000 });
    const t = buildOciSpec(input({ env: ['HOME=/x'] }, { user: { uid: 1, gid: 1, additionalGids: [], home: '/h' } }));
    expect(t.process.env.filter((e) => e.startsWith('HOME='))).toEqual(['HOME=/x']);
  });
});

describe('cwd', () => {
  test('compose working_dir, else image WorkingDir, else /', () => {
    expect(buildOciSpec(input({ workingDir: '/app' }, { image: { ...BUSYBOX, WorkingDir: '/img' } })).process.cwd).toBe('/app');
    expect(buildOciSpec(input({}, { image: { ...BUSYBOX, WorkingDir: '/img' } })).process.cwd).toBe('/img');
    expect(buildOciSpec(input({}, { image: { ...BUSYBOX, WorkingDir: '' } })).process.cwd).toBe('/');
  });
  test('relative working_dir is rejected', () => {
    expect(errOf(() => buildOciSpec(input({ workingDir: 'app' }))).code).toBe('TSC_INVALID_WORKDIR');
  });
});

describe('capabilities', () => {
  test('normalizeCapability', () => {
    expect(normalizeCapability('net_admin')).toBe('CAP_NET_ADMIN');
    expect(normalizeCapability('CAP_SYS_ADMIN')).toBe('CAP_SYS_ADMIN');
    expect(normalizeCapability('cap_sys_ptrace')).toBe('CAP_SYS_PTRACE');
    expect(normalizeCapability('all')).toBe('ALL');
    const e = errOf(() => normalizeCapability('FOO'));
    expect(e.code).toBe('TSC_UNKNOWN_CAPABILITY');
    expect(e.message).toBe('unknown capability: "FOO"');
  });

  test('defaults', () => {
    expect(computeCapabilities()).toEqual(DEFAULT_CAPABILITIES);
  });

  test('add and drop', () => {
    const caps = computeCapabilities(['NET_ADMIN', 'sys_ptrace'], ['mknod', 'CAP_NET_RAW']);
    expect(caps).toEqual([...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_MKNOD' && c !== 'CAP_NET_RAW'), 'CAP_NET_ADMIN', 'CAP_SYS_PTRACE']);
    expect(caps).toHaveLength(14);
  });

  test('adding one already present does not duplicate', () => {
    expect(computeCapabilities(['CHOWN'])).toEqual(DEFAULT_CAPABILITIES);
  });

  test('cap_add ALL minus drops', () => {
    const caps = computeCapabilities(['ALL'], ['SYS_ADMIN']);
    expect(caps).toHaveLength(ALL_CAPABILITIES.length - 1);
    expect(caps).not.toContain('CAP_SYS_ADMIN');
    expect(caps).toContain('CAP_BPF');
  });

  test('cap_drop ALL keeps only the adds', () => {
    expect(computeCapabilities(['net_bind_service', 'chown'], ['all'])).toEqual(['CAP_NET_BIND_SERVICE', 'CAP_CHOWN']);
    expect(computeCapabilities([], ['ALL'])).toEqual([]);
  });

  test('in the spec', () => {
    const s = buildOciSpec(input({ capAdd: ['SYS_ADMIN'], capDrop: ['ALL'] }));
    expect(s.process.capabilities).toEqual({ bounding: ['CAP_SYS_ADMIN'], effective: ['CAP_SYS_ADMIN'], permitted: ['CAP_SYS_ADMIN'] });
    expect(errOf(() => buildOciSpec(input({ capAdd: ['NOPE'] }))).code).toBe('TSC_UNKNOWN_CAPABILITY');
  });

  test('ALL_CAPABILITIES has all 41 (0..40)', () => {
    expect(ALL_CAPABILITIES).toHaveLength(41);
    expect(new Set(ALL_CAPABILITIES).size).toBe(41);
  });
});

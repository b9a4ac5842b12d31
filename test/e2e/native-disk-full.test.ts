/**
 * End-to-end: a full disk during `build` and `pull` on the native runtime. The state directory is a small tmpfs
 * (40 MiB): a RUN step that writes 60 MiB and the pull of debian:bookworm-slim (~75 MiB unpacked) fail with
 * TSC_NO_SPACE, naming what was being written and the filesystem, with a hint; the state then passes
 * `tscompose check` with nothing to repair, and once the tmpfs is made larger the same build and pull succeed.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok } from './native-harness.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();
const stateDir = suite.env['TSCOMPOSE_STATE_DIR']!;
suite.env['TSCOMPOSE_DEBUG'] = '1'; // the error's class in its stack

function mountedHere(): boolean {
  return spawnSync('mountpoint', ['-q', stateDir]).status === 0;
}

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
  if (!capable) return;
  mkdirSync(stateDir, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=40m,mode=0700', 'tmpfs', stateDir], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`cannot mount a tmpfs at ${stateDir}: ${m.stderr}`);
});
afterAll(() => {
  if (!capable) return;
  suite.cleanup();
  if (mountedHere()) spawnSync('umount', ['-l', stateDir]);
}, 120_000);

function resize(size: string): void {
  const r = spawnSync('mount', ['-o', `remount,size=${size}`, stateDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot resize the tmpfs: ${r.stderr}`);
}

/** `check` finds nothing to repair. */
function checkClean(): void {
  const r = suite.ts(undefined, 'check', '--format', 'json');
  const report = JSON.parse(r.stdout) as { ok: boolean; problems: unknown[] };
  expect(report.problems).toEqual([]);
  expect(r.status).toBe(0);
  expect(suite.leftovers()).toEqual([]);
}

const NO_SPACE = /no space left on device writing to (\S+) \(tmpfs filesystem on (\S+), \S+ of 40M free now\)/;

run('a full disk on the native runtime', () => {
  test('a RUN step and a pull that fill the disk: TSC_NO_SPACE, a consistent store, a retry succeeds with more space', () => {
    const p = suite.project({
      Dockerfile: 'FROM busybox:latest\nRUN dd if=/dev/zero of=/big bs=1M count=60 && echo written\n',
      'compose.yaml': 'services:\n  big:\n    build: .\n    image: tsc-disk-full-big\n',
    });
    // --- build: the RUN step's writes fill the state directory's filesystem
    const build = suite.ts(p, 'build');
    expect(build.status).toBe(1);
    const b = NO_SPACE.exec(build.stderr);
    expect(b).not.toBeNull();
    expect(b![1]).toBe(join(stateDir, 'build'));
    expect(b![2]).toBe(stateDir);
    expect(build.stderr).toMatch(/error: building tsc-disk-full-big: no space left on device/);
    expect(build.stderr).toMatch(/RUN dd if=\/dev\/zero of=\/big bs=1M count=60/);
    expect(build.stderr).toMatch(/NoSpaceError: /);
    expect(build.stderr).toMatch(new RegExp(`hint: free space on ${stateDir} .*then retry`));
    checkClean();

    // --- pull: the layer's blob and files do not fit
    const pull = suite.ts(undefined, 'image', 'pull', 'debian:bookworm-slim');
    expect(pull.status).toBe(1);
    const m = NO_SPACE.exec(pull.stderr);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(join(stateDir, 'images'));
    expect(pull.stderr).toMatch(/error: pulling debian:bookworm-slim: no space left on device .*layer sha256:[0-9a-f]{64}/);
    expect(pull.stderr).toMatch(/NoSpaceError: /);
    expect(pull.stderr).toMatch(/hint: free space on /);
    checkClean();
    expect(ok(suite.ts(undefined, 'image', 'ls'))).not.toMatch(/debian/);

    // --- more space: both succeed, and the store stays clean
    resize('250m');
    expect(ok(suite.ts(p, 'build'))).toBeDefined();
    ok(suite.ts(undefined, 'image', 'pull', 'debian:bookworm-slim'));
    const ls = ok(suite.ts(undefined, 'image', 'ls'));
    expect(ls).toMatch(/debian\s+bookworm-slim/);
    expect(ls).toMatch(/tsc-disk-full-big\s+latest/);
    checkClean();
    expect(ok(suite.ts(p, 'run', '--rm', '-T', 'big', 'sh', '-c', 'wc -c < /big')).trim()).toBe(String(60 * 1024 * 1024));
  }, 300_000);
});

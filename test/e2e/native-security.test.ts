/**
 * End-to-end: seccomp and AppArmor of native containers (issue 13 item 1) against the real OCI runtime. Every
 * container gets Docker's default seccomp profile (`Seccomp: 2` in /proc/1/status and in an exec'd process):
 * `unshare -U`, keyctl(2) and mount(2) are refused in a default container and allowed with `seccomp=unconfined`
 * (mount inside a new user and mount namespace: the container itself lacks CAP_SYS_ADMIN) and when privileged
 * (no filter, as Docker); `cap_add: [SYS_ADMIN]` opens mount/unshare as Docker's profile does; a profile file
 * (`seccomp=./profile.json`, relative to the project) is applied; a missing one fails naming the file.
 * AppArmor: this host has none (no profile is set); where AppArmor is enabled the spec unit tests cover the choice.
 * Images come from the local registry (scripts/engine-env.sh): python:3.11-slim (util-linux's unshare and mount,
 * python3 for keyctl).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();

/** keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, create): prints `ok` or `errno N`. */
const KEYCTL_NR: Record<string, number> = { x64: 250, arm64: 219 };
const KEYCTL = `import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(${KEYCTL_NR[process.arch] ?? 250}, 0, ctypes.c_long(-3), 1)
print('ok' if r >= 0 else 'errno %d' % ctypes.get_errno())`;

const PROFILE = JSON.stringify({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
});

const svc = (extra: string): string => `    image: python:3.11-slim\n    network_mode: none\n    command: ["sleep", "3600"]\n${extra}`;

let p: NativeProject;

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
  if (!capable) return;
  p = suite.project({
    'compose.yaml': [
      'services:',
      '  plain:',
      svc(''),
      '  unconfined:',
      svc('    security_opt: ["seccomp=unconfined"]\n'),
      '  priv:',
      svc('    privileged: true\n'),
      '  admin:',
      svc('    cap_add: [SYS_ADMIN]\n'),
      '  custom:',
      svc('    security_opt: ["seccomp=./profiles/no-mkdir.json", "no-new-privileges:true"]\n'),
    ].join('\n'),
    'profiles/no-mkdir.json': PROFILE,
  });
  ok(suite.ts(undefined, 'image', 'pull', 'python:3.11-slim'));
  ok(suite.ts(p, 'up', '-d'));
}, 300_000);

afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

const sh = (service: string, cmd: string): { status: number | null; out: string } => {
  const r = suite.ts(p, 'exec', '-T', service, 'sh', '-c', cmd);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};
const seccompOf = (service: string, pid = '1'): string =>
  /Seccomp:\s*(\d)/.exec(ok(suite.ts(p, 'exec', '-T', service, 'cat', `/proc/${pid}/status`)))?.[1] ?? '?';

run('native seccomp and AppArmor', () => {
  test("Seccomp: 2 in every container with a filter (pid 1 and exec'd processes); none when privileged or unconfined", () => {
    expect(seccompOf('plain')).toBe('2');
    expect(seccompOf('plain', 'self')).toBe('2');
    expect(seccompOf('admin')).toBe('2');
    expect(seccompOf('custom')).toBe('2');
    expect(seccompOf('unconfined')).toBe('0');
  });

  test('privileged (every capability this host has): no filter; unshare, keyctl and mount allowed', () => {
    expect(seccompOf('priv')).toBe('0');
    expect(sh('priv', 'unshare -U true').status).toBe(0);
    expect(ok(suite.ts(p, 'exec', '-T', 'priv', 'python3', '-c', KEYCTL)).trim()).toBe('ok');
    expect(sh('priv', 'mount -t tmpfs none /mnt && echo mounted')).toEqual({ status: 0, out: 'mounted\n' });
  });

  test('unshare -U: refused by default, allowed with seccomp=unconfined', () => {
    const plain = sh('plain', 'unshare -U true');
    expect(plain.status).not.toBe(0);
    expect(plain.out).toMatch(/Operation not permitted/);
    expect(sh('unconfined', 'unshare -U true').status).toBe(0);
    // CAP_SYS_ADMIN opens unshare in Docker's profile
    expect(sh('admin', 'unshare -U true').status).toBe(0);
  });

  test('keyctl: EPERM by default (even with CAP_SYS_ADMIN), allowed with seccomp=unconfined', () => {
    const keyctl = (service: string): string => ok(suite.ts(p, 'exec', '-T', service, 'python3', '-c', KEYCTL)).trim();
    expect(keyctl('plain')).toBe('errno 1');
    expect(keyctl('admin')).toBe('errno 1');
    expect(keyctl('unconfined')).toBe('ok');
  });

  test('mount: refused by default; allowed in a new user+mount namespace when unconfined, directly with SYS_ADMIN', () => {
    const userMount = 'unshare -Urm sh -c "mount -t tmpfs none /mnt && echo mounted"';
    const plain = sh('plain', userMount);
    expect(plain.status).not.toBe(0);
    expect(plain.out).not.toContain('mounted');
    expect(sh('plain', 'mount -t tmpfs none /mnt').status).not.toBe(0);
    expect(sh('unconfined', userMount)).toEqual({ status: 0, out: 'mounted\n' });
    expect(sh('admin', 'mount -t tmpfs none /mnt && echo mounted')).toEqual({ status: 0, out: 'mounted\n' });
  });

  test('a custom profile file is applied (mkdir → EACCES, the rest allowed) with no-new-privileges', () => {
    const r = sh('custom', 'mkdir /tmp/x');
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/Permission denied/);
    expect(sh('custom', 'touch /tmp/f && unshare -U true && echo fine')).toEqual({ status: 0, out: 'fine\n' });
    expect(ok(suite.ts(p, 'exec', '-T', 'custom', 'grep', 'NoNewPrivs', '/proc/1/status'))).toMatch(/NoNewPrivs:\s*1/);
    expect(sh('plain', 'mkdir /tmp/x && echo made')).toEqual({ status: 0, out: 'made\n' });
  });

  test('masked and read-only paths stay under the filter', () => {
    const masked = ['/proc/timer_list', '/proc/keys', '/proc/kcore'].find((f) => existsSync(f));
    if (masked) expect(ok(suite.ts(p, 'exec', '-T', 'plain', 'cat', masked)).length).toBe(0);
    expect(sh('plain', 'echo 1 > /proc/sys/kernel/panic').status).not.toBe(0);
  });

  test('a missing profile file fails naming it; AppArmor: no profile where the host has none', () => {
    const bad = suite.project({ 'compose.yaml': `services:\n  s:\n${svc('    security_opt: ["seccomp=nope.json"]\n')}` });
    const r = suite.ts(bad, 'up', '-d');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/opening seccomp profile \(nope.json\) failed/);
    if (!existsSync('/sys/module/apparmor')) expect(sh('plain', 'cat /proc/1/attr/current 2>/dev/null || true').out).not.toMatch(/docker-default/);
  });
});

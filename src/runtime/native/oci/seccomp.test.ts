/** withSeccomp and withApparmor through buildOciSpec: Docker's default profile per container, its options; what privileged gets. */
import { describe, expect, test } from '@jest/globals';
import type { SeccompProfile } from '../../../lib/seccomp/index.js';
import { CONFINEMENT, input } from './__fixtures__/spec-input.js';
import { ALL_CAPABILITIES } from './defaults.js';
import { buildOciSpec } from './oci-spec.js';
import { capabilitiesOfMask, computeCapabilities, currentCapabilities } from './process.js';
import { hostConfinement } from './seccomp.js';
import type { OciSpec } from './spec-types.js';

const allowedPlain = (s: OciSpec, name: string): boolean =>
  (s.linux.seccomp?.syscalls ?? []).some((r) => r.names.includes(name) && r.action === 'SCMP_ACT_ALLOW' && r.args === undefined);

describe('withSeccomp', () => {
  test("every container gets Docker's default profile, resolved for its capabilities", () => {
    const s = buildOciSpec(input());
    expect(s.linux.seccomp).toMatchObject({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    });
    expect(allowedPlain(s, 'mount')).toBe(false);
    expect(allowedPlain(s, 'unshare')).toBe(false);
    expect(allowedPlain(s, 'keyctl')).toBe(false);
    const admin = buildOciSpec(input({ capAdd: ['SYS_ADMIN'] }));
    expect(allowedPlain(admin, 'mount')).toBe(true);
    expect(allowedPlain(admin, 'unshare')).toBe(true);
    expect(allowedPlain(admin, 'keyctl')).toBe(false);
    // cap_drop removes what the capability allowed
    expect(allowedPlain(buildOciSpec(input({ capDrop: ['SYS_CHROOT'] })), 'chroot')).toBe(false);
    expect(allowedPlain(s, 'chroot')).toBe(true);
  });

  test('the host architecture decides the architectures and arch-specific rules', () => {
    const s = buildOciSpec(input({}, { confinement: { ...CONFINEMENT, arch: 'arm64' } }));
    expect(s.linux.seccomp?.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(allowedPlain(s, 'set_tls')).toBe(true);
    expect(allowedPlain(s, 'arch_prctl')).toBe(false);
  });

  test('privileged and seccomp=unconfined: no filter; builtin = default', () => {
    expect(buildOciSpec(input({ privileged: true })).linux.seccomp).toBeUndefined();
    expect(buildOciSpec(input({ security: { seccomp: 'unconfined' } })).linux.seccomp).toBeUndefined();
    expect(buildOciSpec(input({ security: { seccomp: 'default' } })).linux.seccomp).toEqual(buildOciSpec(input()).linux.seccomp);
  });

  test('a profile file is resolved the same way; privileged still wins', () => {
    const profile: SeccompProfile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
      syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_FOWNER'] } },
      ],
    };
    const seccomp = { file: '/p/profile.json', profile };
    expect(buildOciSpec(input({ security: { seccomp } })).linux.seccomp).toEqual({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    });
    expect(buildOciSpec(input({ security: { seccomp }, capDrop: ['FOWNER'] })).linux.seccomp?.syscalls).toHaveLength(2);
    expect(buildOciSpec(input({ security: { seccomp }, privileged: true })).linux.seccomp).toBeUndefined();
  });

  test('systempaths=unconfined drops the masked and read-only paths; the default keeps them', () => {
    const s = buildOciSpec(input({ security: { unconfinedSystemPaths: true } }));
    expect(s.linux.maskedPaths).toBeUndefined();
    expect(s.linux.readonlyPaths).toBeUndefined();
    expect(buildOciSpec(input({ security: { seccomp: 'unconfined' } })).linux.maskedPaths).toContain('/proc/kcore');
  });

  test('hostConfinement reads this host', () => {
    const h = hostConfinement();
    expect(h.kernel).toMatch(/^\d+\.\d+/);
    expect(h.arch).not.toBe('');
    expect(hostConfinement()).toBe(h);
  });
});

describe('withApparmor', () => {
  const apparmor = { enabled: true, loaded: ['docker-default', 'mine'] };
  const on = { confinement: { ...CONFINEMENT, apparmor } };

  test('docker-default where AppArmor has it; the asked-for profile; none when privileged or unconfined', () => {
    expect(buildOciSpec(input({}, on)).process.apparmorProfile).toBe('docker-default');
    expect(buildOciSpec(input({ security: { apparmor: 'mine' } }, on)).process.apparmorProfile).toBe('mine');
    expect(buildOciSpec(input({ privileged: true }, on)).process.apparmorProfile).toBeUndefined();
    expect(buildOciSpec(input({ security: { apparmor: 'unconfined' } }, on)).process.apparmorProfile).toBeUndefined();
    expect(() => buildOciSpec(input({ security: { apparmor: 'missing' } }, on))).toThrow(/not loaded/);
  });

  test('nothing where the host has no AppArmor', () => {
    expect(buildOciSpec(input()).process.apparmorProfile).toBeUndefined();
    expect(buildOciSpec(input({ security: { apparmor: 'mine' } })).process.apparmorProfile).toBeUndefined();
  });
});

describe('capabilities available to privileged containers', () => {
  test('privileged and cap_add: [ALL] get what this process has (moby: the current environment)', () => {
    const available = ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
    const s = buildOciSpec(input({ privileged: true }, { availableCapabilities: available }));
    expect(s.process.capabilities?.bounding).toEqual(available);
    expect(computeCapabilities(['ALL'], ['NET_ADMIN'], false, available)).not.toContain('CAP_SYS_RESOURCE');
    expect(() => computeCapabilities(['SYS_RESOURCE'], [], false, available)).toThrow(/not available in the current environment: "CAP_SYS_RESOURCE"/);
  });

  test('capabilitiesOfMask reads /proc status masks; currentCapabilities this process', () => {
    expect(capabilitiesOfMask('0000000000000003')).toEqual(['CAP_CHOWN', 'CAP_DAC_OVERRIDE']);
    expect(capabilitiesOfMask('000001fffeffffff')).toEqual(ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE'));
    expect(currentCapabilities().length).toBeGreaterThan(0);
  });
});

import { describe, expect, test } from '@jest/globals';
import { DOCKER_DEFAULT_PROFILE } from './default-profile.js';
import { SeccompProfileError } from './errors.js';
import { kernelAtLeast, kernelVersionOf, nativeArch, resolveSeccomp } from './resolve.js';
import type { OciLinuxSeccomp, SeccompProfile } from './types.js';

/** Docker's default capabilities. */
const DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const resolved = (capabilities: string[] = DEFAULT_CAPS, arch = 'amd64', kernel = '6.1.0-18-amd64'): OciLinuxSeccomp =>
  resolveSeccomp(DOCKER_DEFAULT_PROFILE, { arch, capabilities, kernel })!;

/** The rules naming `name`: action, errno and whether they compare arguments. */
const rulesFor = (s: OciLinuxSeccomp, name: string): { action: string; errnoRet?: number; args: boolean }[] =>
  (s.syscalls ?? [])
    .filter((r) => r.names.includes(name))
    .map((r) => ({ action: r.action, ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}), args: r.args !== undefined }));

const allowed = (s: OciLinuxSeccomp, name: string): boolean => rulesFor(s, name).some((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args);

describe('nativeArch and kernel versions', () => {
  test('node architectures map to libseccomp names', () => {
    expect(nativeArch('x64')).toBe('amd64');
    expect(nativeArch('ia32')).toBe('x86');
    expect(nativeArch('arm64')).toBe('arm64');
    expect(nativeArch('ppc64', 'LE')).toBe('ppc64le');
    expect(nativeArch('ppc64', 'BE')).toBe('ppc64');
    expect(nativeArch('s390x')).toBe('s390x');
  });

  test('kernel releases compare on <kernel>.<major>', () => {
    expect(kernelVersionOf('6.18.44-fc-v1272')).toEqual([6, 18]);
    expect(kernelVersionOf('garbage')).toBeUndefined();
    expect(kernelAtLeast('4.8.0', '4.8')).toBe(true);
    expect(kernelAtLeast('4.7.10', '4.8')).toBe(false);
    expect(kernelAtLeast('5.0-rc1', '4.8')).toBe(true);
    expect(kernelAtLeast('3.12.25-gentoo', '3.12')).toBe(true);
    expect(() => kernelAtLeast('6.1', '0.0')).toThrow(SeccompProfileError);
    expect(() => kernelAtLeast('6.1', '4')).toThrow(SeccompProfileError);
  });
});

describe('resolveSeccomp of Docker’s default profile', () => {
  test('errno EPERM by default; the host architecture with its sub-architectures', () => {
    const s = resolved();
    expect(s.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(s.defaultErrnoRet).toBe(1);
    expect(s.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(resolved(DEFAULT_CAPS, 'arm64').architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(resolved(DEFAULT_CAPS, 'riscv64').architectures).toEqual(['SCMP_ARCH_RISCV64']);
    expect(resolved(DEFAULT_CAPS, 'sparc').architectures).toBeUndefined();
  });

  test('architecture-specific syscalls only on their architectures', () => {
    expect(allowed(resolved(), 'arch_prctl')).toBe(true);
    expect(allowed(resolved(), 'modify_ldt')).toBe(true);
    expect(allowed(resolved(), 'set_tls')).toBe(false);
    expect(allowed(resolved(DEFAULT_CAPS, 'arm64'), 'set_tls')).toBe(true);
    expect(allowed(resolved(DEFAULT_CAPS, 'arm64'), 'arch_prctl')).toBe(false);
    // clone's namespace-flag check is on argument 0, on s390 on argument 1.
    const idx = (s: OciLinuxSeccomp): number[] => (s.syscalls ?? []).filter((r) => r.names.includes('clone')).map((r) => r.args![0]!.index);
    expect(idx(resolved())).toEqual([0]);
    expect(idx(resolved(DEFAULT_CAPS, 's390x'))).toEqual([1]);
  });

  test('a default container: no mount, unshare, setns, keyctl, bpf; clone without namespaces; clone3 ENOSYS', () => {
    const s = resolved();
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'kexec_load']) {
      expect([name, allowed(s, name)]).toEqual([name, false]);
    }
    expect(rulesFor(s, 'clone')).toEqual([{ action: 'SCMP_ACT_ALLOW', args: true }]);
    expect(rulesFor(s, 'clone3')).toEqual([{ action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: false }]);
    expect(allowed(s, 'chroot')).toBe(true); // CAP_SYS_CHROOT is a default capability
    expect(allowed(s, 'open_by_handle_at')).toBe(false);
    expect(allowed(s, 'ptrace')).toBe(true); // kernel ≥ 4.8
    expect(allowed(s, 'read')).toBe(true);
  });

  test('CAP_SYS_ADMIN enables mount, unshare, setns and plain clone/clone3', () => {
    const s = resolved([...DEFAULT_CAPS, 'CAP_SYS_ADMIN']);
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'bpf', 'sethostname'])
      expect([name, allowed(s, name)]).toEqual([name, true]);
    expect(rulesFor(s, 'clone3')).toEqual([{ action: 'SCMP_ACT_ALLOW', args: false }]);
    expect(allowed(s, 'keyctl')).toBe(false); // not even with every capability
  });

  test('other capability-guarded syscalls follow their capability', () => {
    expect(allowed(resolved([...DEFAULT_CAPS, 'CAP_SYS_TIME']), 'settimeofday')).toBe(true);
    expect(allowed(resolved(), 'settimeofday')).toBe(false);
    expect(allowed(resolved([...DEFAULT_CAPS, 'CAP_DAC_READ_SEARCH']), 'open_by_handle_at')).toBe(true);
    expect(allowed(resolved(DEFAULT_CAPS.filter((c) => c !== 'CAP_SYS_CHROOT')), 'chroot')).toBe(false);
    expect(allowed(resolved([...DEFAULT_CAPS, 'CAP_BPF']), 'bpf')).toBe(true);
  });

  test('minKernel: ptrace only from 4.8 without CAP_SYS_PTRACE', () => {
    expect(allowed(resolved(DEFAULT_CAPS, 'amd64', '4.4.0'), 'ptrace')).toBe(false);
    expect(allowed(resolved([...DEFAULT_CAPS, 'CAP_SYS_PTRACE'], 'amd64', '4.4.0'), 'ptrace')).toBe(true);
  });
});

describe('resolveSeccomp of other profiles', () => {
  const target = { arch: 'amd64', capabilities: DEFAULT_CAPS, kernel: '5.10.0' };

  test('architectures given directly; name for names; excludes by arch and minKernel', () => {
    const p: SeccompProfile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        { name: 'mkdir', action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', excludes: { arches: ['amd64'] } },
        { names: ['chown'], action: 'SCMP_ACT_ERRNO', excludes: { minKernel: '5.0' } },
        { names: ['fchown'], action: 'SCMP_ACT_ERRNO', excludes: { minKernel: '6.0' } },
      ],
    };
    expect(resolveSeccomp(p, target)).toEqual({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['fchown'], action: 'SCMP_ACT_ERRNO' },
      ],
    });
  });

  test('an empty profile means no filter; contradictions are errors', () => {
    expect(resolveSeccomp({ defaultAction: '' }, target)).toBeUndefined();
    expect(() =>
      resolveSeccomp(
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: ['SCMP_ARCH_X86'],
          archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }],
        },
        target,
      ),
    ).toThrow(/both 'architectures' and 'archMap'/);
    expect(() =>
      resolveSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ERRNO' }] }, target),
    ).toThrow(/both 'name' and 'names'/);
  });

  test('the result does not share arrays with the profile', () => {
    const s = resolved();
    s.syscalls![0]!.names.push('x');
    expect(DOCKER_DEFAULT_PROFILE.syscalls![0]!.names).not.toContain('x');
  });
});

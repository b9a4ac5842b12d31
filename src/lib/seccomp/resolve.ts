/**
 * A Docker-format seccomp profile resolved for one container into the OCI `linux.seccomp` object, with moby's rules
 * (`profiles/seccomp/seccomp_linux.go` setupSeccomp): the architectures are those of the `archMap` entry of the
 * host's architecture (with its sub-architectures), or the profile's `architectures`; a rule is dropped when its
 * `excludes` matches (the host's architecture is listed, any listed capability is among the container's, or the
 * kernel is at least `minKernel`) or its `includes` does not (the architecture is not listed, a listed capability
 * is missing, or the kernel is older than `minKernel`). Pure; invalid profiles throw SeccompProfileError.
 */
import { SeccompProfileError } from './errors.js';
import type { OciLinuxSeccomp, OciSeccompSyscall, SeccompFilter, SeccompProfile, SeccompTarget } from './types.js';

/** Node's `process.arch` → libseccomp's short architecture name (moby's GOARCH → native map). */
const NODE_TO_NATIVE: Readonly<Record<string, string>> = {
  ia32: 'x86',
  x64: 'amd64',
  arm: 'arm',
  arm64: 'arm64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsel',
  mips64el: 'mipsel64',
  ppc: 'ppc',
  ppc64: 'ppc64',
  riscv64: 'riscv64',
  s390: 's390',
  s390x: 's390x',
};

/** libseccomp's short name → the runtime-spec `SCMP_ARCH_*` (moby's nativeToSeccomp). */
export const NATIVE_TO_SCMP_ARCH: Readonly<Record<string, string>> = {
  x86: 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  x32: 'SCMP_ARCH_X32',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  loong64: 'SCMP_ARCH_LOONGARCH64',
  mips: 'SCMP_ARCH_MIPS',
  mipsel: 'SCMP_ARCH_MIPSEL',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32',
  ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
};

/**
 * libseccomp's short name of the architecture Node runs on (`x64` → `amd64`, `arm64` → `arm64`, `ppc64` on a
 * little-endian host → `ppc64le`); unknown architectures pass through unchanged (no archMap entry then matches).
 */
export function nativeArch(nodeArch: string, endianness: 'BE' | 'LE' = 'LE'): string {
  if (nodeArch === 'ppc64' && endianness === 'LE') return 'ppc64le';
  return NODE_TO_NATIVE[nodeArch] ?? nodeArch;
}

/** `<kernel>.<major>` of a release (`6.1.0-18-amd64` → [6, 1]); undefined when it does not start with one. */
export function kernelVersionOf(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Whether the host kernel `release` is at least `min` (`<kernel>.<major>`, as a profile's minKernel). */
export function kernelAtLeast(release: string, min: string): boolean {
  const want = /^(\d+)\.(\d+)$/.exec(min.trim());
  if (!want || (Number(want[1]) === 0 && Number(want[2]) === 0)) {
    throw new SeccompProfileError(`invalid kernel version: "${min}", expected "<kernel>.<major>"`);
  }
  const have = kernelVersionOf(release);
  if (!have) throw new SeccompProfileError(`cannot read the host's kernel version from "${release}"`);
  const [k, m] = [Number(want[1]), Number(want[2])];
  return have[0] > k || (have[0] === k && have[1] >= m);
}

function excluded(f: SeccompFilter | undefined, t: SeccompTarget): boolean {
  if (!f) return false;
  if (f.arches && f.arches.length > 0 && f.arches.includes(t.arch)) return true;
  if (f.caps && f.caps.some((c) => t.capabilities.includes(c))) return true;
  return f.minKernel !== undefined && f.minKernel !== '' && kernelAtLeast(t.kernel, f.minKernel);
}

function included(f: SeccompFilter | undefined, t: SeccompTarget): boolean {
  if (!f) return true;
  if (f.arches && f.arches.length > 0 && !f.arches.includes(t.arch)) return false;
  if (f.caps && f.caps.some((c) => !t.capabilities.includes(c))) return false;
  return f.minKernel === undefined || f.minKernel === '' || kernelAtLeast(t.kernel, f.minKernel);
}

/**
 * The OCI `linux.seccomp` of `profile` for a container (see the module comment); undefined for a profile without a
 * default action and without rules (Docker: seccomp off). SeccompProfileError when the profile gives both
 * `architectures` and `archMap`, or a rule both `name` and `names`, or an invalid minKernel.
 */
export function resolveSeccomp(profile: SeccompProfile, target: SeccompTarget): OciLinuxSeccomp | undefined {
  const rules = profile.syscalls ?? [];
  if (profile.defaultAction === '' && rules.length === 0) return undefined;
  if ((profile.architectures?.length ?? 0) > 0 && (profile.archMap?.length ?? 0) > 0) {
    throw new SeccompProfileError("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const out: OciLinuxSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const architectures = [...(profile.architectures ?? [])];
  const scmpArch = NATIVE_TO_SCMP_ARCH[target.arch];
  const entry = scmpArch === undefined ? undefined : profile.archMap?.find((a) => a.architecture === scmpArch);
  if (entry) architectures.push(entry.architecture, ...(entry.subArchitectures ?? []));
  if (architectures.length > 0) out.architectures = architectures;
  if (profile.flags && profile.flags.length > 0) out.flags = [...profile.flags];
  if (profile.listenerPath) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata;
  const syscalls: OciSeccompSyscall[] = [];
  for (const rule of rules) {
    if (rule.name !== undefined && rule.name !== '' && rule.names && rule.names.length > 0) {
      throw new SeccompProfileError("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
    }
    if (excluded(rule.excludes, target) || !included(rule.includes, target)) continue;
    const names = rule.name !== undefined && rule.name !== '' ? [rule.name] : [...(rule.names ?? [])];
    const s: OciSeccompSyscall = { names, action: rule.action };
    if (rule.errnoRet !== undefined) s.errnoRet = rule.errnoRet;
    if (rule.args && rule.args.length > 0) s.args = rule.args.map((a) => ({ ...a }));
    syscalls.push(s);
  }
  if (syscalls.length > 0) out.syscalls = syscalls;
  return out;
}

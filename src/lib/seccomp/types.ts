/**
 * Seccomp profiles in Docker's format (moby `profiles/seccomp`: the runtime-spec's `linux.seccomp` plus `archMap`
 * and per-rule `includes`/`excludes` conditions on the container's capabilities, the host's architecture and
 * kernel version) and the OCI runtime-spec `linux.seccomp` object a profile resolves to.
 */

/** A comparison on one syscall argument (runtime-spec `LinuxSeccompArg`). */
export interface SeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  /** `SCMP_CMP_EQ`, `SCMP_CMP_MASKED_EQ`, … */
  readonly op: string;
}

/**
 * The condition of a rule: every field given must hold (`includes`), or any field given that holds drops the rule
 * (`excludes`). Architectures are libseccomp's short names (`amd64`, `x86`, `arm64`, `s390x`, …), kernel versions
 * `<kernel>.<major>`.
 */
export interface SeccompFilter {
  readonly caps?: readonly string[];
  readonly arches?: readonly string[];
  readonly minKernel?: string;
}

/** One rule of a Docker-format profile. */
export interface SeccompRule {
  readonly names?: readonly string[];
  /** The old single-name form: either it or `names`. */
  readonly name?: string;
  /** `SCMP_ACT_ALLOW`, `SCMP_ACT_ERRNO`, … */
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: readonly SeccompArg[];
  readonly comment?: string;
  readonly includes?: SeccompFilter;
  readonly excludes?: SeccompFilter;
}

/** An architecture and the sub-architectures a filter for it also covers (x86_64: x86 and x32). */
export interface SeccompArchMapEntry {
  /** `SCMP_ARCH_X86_64`, … */
  readonly architecture: string;
  readonly subArchitectures: readonly string[] | null;
}

/** A profile as Docker reads it from `--security-opt seccomp=FILE` (and as its built-in default is written). */
export interface SeccompProfile {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  /** Either this or `archMap`. */
  readonly architectures?: readonly string[];
  readonly archMap?: readonly SeccompArchMapEntry[];
  readonly flags?: readonly string[];
  readonly listenerPath?: string;
  readonly listenerMetadata?: string;
  readonly syscalls?: readonly SeccompRule[];
}

/** A rule of the OCI `linux.seccomp.syscalls`. */
export interface OciSeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[];
}

/** The OCI runtime-spec `linux.seccomp` object. */
export interface OciLinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: OciSeccompSyscall[];
}

/** What a profile's conditions are resolved against. */
export interface SeccompTarget {
  /** libseccomp's short name of the host architecture (`amd64`, `arm64`, …; see nativeArch). */
  readonly arch: string;
  /** The container's bounding capabilities (`CAP_SYS_ADMIN`, …). */
  readonly capabilities: readonly string[];
  /** The host's kernel release (`os.release()`, e.g. `6.1.0-18-amd64`). */
  readonly kernel: string;
}

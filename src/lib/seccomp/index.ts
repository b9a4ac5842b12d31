/**
 * Seccomp and AppArmor confinement of containers as Docker applies it: Docker's default seccomp profile as data,
 * Docker-format profile files read and checked, a profile resolved for one container (architecture, capabilities,
 * kernel version) into the OCI `linux.seccomp`, and the choice of an AppArmor profile.
 */
export { type AppArmorChoice, type AppArmorHost, DOCKER_DEFAULT_APPARMOR_PROFILE, apparmorProfileFor, loadedApparmorProfiles } from './apparmor.js';
export { CLONE_NAMESPACE_FLAGS, DEFAULT_ALLOWED_SYSCALLS, DOCKER_DEFAULT_PROFILE } from './default-profile.js';
export { AppArmorProfileError, SeccompProfileError } from './errors.js';
export { parseSeccompProfile, seccompProfileFrom } from './profile.js';
export { NATIVE_TO_SCMP_ARCH, kernelAtLeast, kernelVersionOf, nativeArch, resolveSeccomp } from './resolve.js';
export type {
  OciLinuxSeccomp,
  OciSeccompSyscall,
  SeccompArchMapEntry,
  SeccompArg,
  SeccompFilter,
  SeccompProfile,
  SeccompRule,
  SeccompTarget,
} from './types.js';

/**
 * The native runtime's seccomp filter and AppArmor profile, as Docker applies them (moby `daemon/seccomp_linux.go`
 * WithSeccomp, `daemon/oci_linux.go` WithApparmor): privileged containers and `seccomp=unconfined` get no filter;
 * otherwise Docker's default profile (lib/seccomp) or the compose file's profile, resolved against the container's
 * bounding capabilities (so withCapabilities must run first), the host's architecture and kernel. AppArmor:
 * lib/seccomp's apparmorProfileFor over what the host has loaded (tscompose loads no profile itself).
 * The spec options are pure; `hostConfinement()` reads the host once per process (the default of the input's
 * `confinement`).
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import {
  DOCKER_DEFAULT_PROFILE,
  apparmorProfileFor,
  loadedApparmorProfiles,
  nativeArch,
  resolveSeccomp,
  type AppArmorHost,
} from '../../../lib/seccomp/index.js';
import type { SpecOpt } from './spec-opts.js';
import type { HostConfinement } from './spec-types.js';

let cached: HostConfinement | undefined;

function readApparmorHost(): AppArmorHost {
  let enabled: boolean;
  try {
    enabled = readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return { enabled: false, loaded: [] };
  }
  if (!enabled) return { enabled, loaded: [] };
  try {
    return { enabled, loaded: loadedApparmorProfiles(readFileSync('/sys/kernel/security/apparmor/profiles', 'utf8')) };
  } catch {
    return { enabled, loaded: [] };
  }
}

/** This host's architecture (libseccomp's name), kernel release and AppArmor state; read once per process. */
export function hostConfinement(): HostConfinement {
  cached ??= { arch: nativeArch(process.arch, os.endianness()), kernel: os.release(), apparmor: readApparmorHost() };
  return cached;
}

/** `linux.seccomp`: Docker's default profile, `seccomp=FILE`'s, or none (privileged, `seccomp=unconfined`). */
export const withSeccomp: SpecOpt = (s, { spec, confinement }) => {
  if (spec.privileged === true) return;
  const choice = spec.security?.seccomp ?? 'default';
  if (choice === 'unconfined') return;
  const profile = choice === 'default' ? DOCKER_DEFAULT_PROFILE : choice.profile;
  const host = confinement ?? hostConfinement();
  const seccomp = resolveSeccomp(profile, { arch: host.arch, kernel: host.kernel, capabilities: s.process.capabilities?.bounding ?? [] });
  if (seccomp) s.linux.seccomp = seccomp;
};

/** `process.apparmorProfile`: `apparmor=NAME`, or docker-default where the host has it loaded (see apparmorProfileFor). */
export const withApparmor: SpecOpt = (s, { spec, confinement }) => {
  const { profile } = apparmorProfileFor(spec.security?.apparmor, spec.privileged === true, (confinement ?? hostConfinement()).apparmor);
  if (profile !== undefined) s.process.apparmorProfile = profile;
};

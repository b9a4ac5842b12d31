/**
 * Builds the OCI runtime `config.json` of a compose service container with Docker's defaults (moby
 * `daemon/pkg/oci/defaults.go`, `daemon/oci_linux.go`, `oci/caps`; native-runtime notes §3): a base spec, then the
 * options of ./spec-opts.ts, each one concern, in order.
 *
 * `buildOciSpec` is pure: everything it would have to look up on the host (the user's ids, host devices, the netns,
 * the init binary, /etc files) is passed in; `hostDevicesFor` and `listHostDevices` (./devices.ts) are the small
 * impure helpers for `devices:` and `privileged`.
 */
import { RLIM_INFINITY } from './process.js';
import {
  withAnnotations,
  withCapabilities,
  withDefaultMounts,
  withDevices,
  withDomainname,
  withEnv,
  withEtcFiles,
  withExtraMounts,
  withHostname,
  withInit,
  withMaskedPaths,
  withMounts,
  withNamespaces,
  withNoNewPrivileges,
  withProcessArgs,
  withReadonlyPaths,
  withReadonlyRootfs,
  withResources,
  withSysctls,
  withUlimits,
  withUser,
  withWorkingDir,
  type SpecOpt,
} from './spec-opts.js';
import { withApparmor, withSeccomp } from './seccomp.js';
import {
  withBindPropagation,
  withDeviceCgroupRules,
  withHostNamespaces,
  withIpcShm,
  withMoreResources,
  withOomScoreAdj,
  withServiceAnnotations,
} from './spec-opts-host.js';
import { withUserNamespace } from './userns-opts.js';
import { withBlockIO } from './blkio.js';
import { OCI_VERSION, type OciProcess, type OciSpec, type OciSpecInput } from './spec-types.js';

/**
 * The options in the order they apply. It matters: withInit wraps the args withProcessArgs set and its mount comes
 * first; withEtcFiles skips what the service mounts; withDefaultMounts sorts every mount added before it; the first
 * invalid field (in this order) is the error reported.
 */
const SPEC_OPTS: readonly SpecOpt[] = [
  withProcessArgs,
  withInit,
  withEnv,
  withWorkingDir,
  withUser,
  withCapabilities,
  withUlimits,
  withOomScoreAdj,
  withNoNewPrivileges,
  withMounts,
  withEtcFiles,
  withExtraMounts,
  withDefaultMounts,
  withBindPropagation,
  withReadonlyRootfs,
  withNamespaces,
  withUserNamespace,
  withDevices,
  withDeviceCgroupRules,
  withResources,
  withMoreResources,
  withBlockIO,
  withSysctls,
  withMaskedPaths,
  withReadonlyPaths,
  withSeccomp,
  withApparmor,
  withHostname,
  withDomainname,
  withHostNamespaces,
  withIpcShm,
  withAnnotations,
  withServiceAnnotations,
];

/** The skeleton the options fill: every field config.json always has, in its key order. */
function baseSpec(input: OciSpecInput): OciSpec {
  return {
    ociVersion: OCI_VERSION,
    process: { terminal: false, user: { uid: 0, gid: 0 }, args: [], env: [], cwd: '/' },
    root: { path: input.rootfsPath, readonly: false },
    mounts: [],
    linux: { namespaces: [], resources: { devices: [] }, cgroupsPath: input.cgroupsPath },
  };
}

/**
 * The OCI `config.json` for a service container. Pure: throws TsComposeError for invalid input
 * (`TSC_NO_COMMAND`, `TSC_UNKNOWN_CAPABILITY`, `TSC_INVALID_ULIMIT`, `TSC_INVALID_SIGNAL`, `TSC_INIT_MISSING`, …).
 */
export function buildOciSpec(input: OciSpecInput): OciSpec {
  const spec = baseSpec(input);
  for (const opt of SPEC_OPTS) opt(spec, input);
  return spec;
}

/** config.json text for a spec (RLIM_INFINITY written exactly; see RLIM_INFINITY). */
export function ociSpecToJson(spec: OciSpec | OciProcess, indent = 2): string {
  const token = `__rlim_infinity_${Math.random().toString(36).slice(2)}__`;
  const text = JSON.stringify(spec, (_k, v: unknown) => (v === RLIM_INFINITY ? token : v), indent);
  return text.split(`"${token}"`).join('18446744073709551615');
}

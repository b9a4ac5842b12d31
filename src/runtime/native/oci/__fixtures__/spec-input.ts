/** Inputs of buildOciSpec shared by the oci-spec*.test.ts files: a busybox-like image and service. */
import { TsComposeError } from '../../../../errors.js';
import type { ContainerSpec } from '../../../runtime.js';
import { ALL_CAPABILITIES } from '../defaults.js';
import type { ImageRunConfig, OciSpecInput } from '../spec-types.js';

export const BUSYBOX: ImageRunConfig = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  Cmd: ['sh'],
};

/** An x86-64 host with kernel 6.1 and no AppArmor (what seccomp and AppArmor are resolved against). */
export const CONFINEMENT = { arch: 'amd64', kernel: '6.1.0-18-amd64', apparmor: { enabled: false, loaded: [] } } as const;

export function input(spec: Partial<ContainerSpec> = {}, over: Partial<OciSpecInput> = {}): OciSpecInput {
  return {
    id: 'c0ffee',
    spec: { name: 'proj-web-1', image: 'busybox', labels: { 'com.docker.compose.service': 'web' }, ...spec },
    image: BUSYBOX,
    rootfsPath: '/var/lib/tscompose/c0ffee/rootfs',
    user: { uid: 0, gid: 0, additionalGids: [10] },
    hostname: 'c0ffee',
    cgroupsPath: '/tscompose/c0ffee',
    network: { netnsPath: '/run/netns/tsc-c0ffee' },
    confinement: CONFINEMENT,
    availableCapabilities: ALL_CAPABILITIES,
    ...over,
  };
}

export function errOf(fn: () => unknown): TsComposeError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TsComposeError) return e;
    throw e;
  }
  throw new Error('expected a TsComposeError');
}

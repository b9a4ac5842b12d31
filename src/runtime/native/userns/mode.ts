/**
 * Which remap a container gets, from the runtime's remap (TSCOMPOSE_USERNS_REMAP, ./idmap.ts) and the service's
 * `userns_mode`, with Docker's meaning: unset, the daemon's remap (if any); `host`, none (the host's user
 * namespace); anything else (podman's `keep-id`, `auto`, `nomap`, `ns:…`) is refused. As dockerd, a privileged
 * container cannot be remapped: it needs `userns_mode: host`, and so does `network_mode: host` (a limitation Docker
 * documents for userns-remap; here also because runc 1.1.5 cannot exec into such a container).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TsComposeError } from '../../../errors.js';
import type { ContainerSpec } from '../../runtime.js';
import type { IdRange } from './idmap.js';

/** The range of `spec`'s container, undefined when it runs in the host's user namespace. */
export function containerRemap(
  spec: Pick<ContainerSpec, 'name' | 'usernsMode' | 'privileged' | 'networkMode'>,
  remap: IdRange | undefined,
): IdRange | undefined {
  const mode = spec.usernsMode ?? '';
  if (mode === 'host') return undefined;
  if (mode !== '') {
    throw new TsComposeError('TSC_UNSUPPORTED_USERNS_MODE', `container ${spec.name}: userns_mode "${mode}" is not supported`, {
      hint: 'the native runtime knows `userns_mode: host` (no remap) and the remap of TSCOMPOSE_USERNS_REMAP for every other container',
    });
  }
  if (remap && spec.privileged === true) {
    throw new TsComposeError(
      'TSC_PRIVILEGED_USERNS',
      `container ${spec.name}: privileged mode is incompatible with user namespaces; you must run the container in the host namespace when running privileged mode`,
      { hint: 'add `userns_mode: host` to the service' },
    );
  }
  if (remap && spec.networkMode === 'host') {
    throw new TsComposeError(
      'TSC_HOST_NETWORK_USERNS',
      `container ${spec.name}: cannot share the host's network namespace when user namespaces are enabled`,
      { hint: 'add `userns_mode: host` to the service (runc 1.1.5 cannot exec into a remapped container in the host network namespace)' },
    );
  }
  return remap;
}

/**
 * Creates the missing bind-mount sources of a remapped container owned by the range's root (only the directories
 * made here), as dockerd does (`idtools.MkdirAllAndChownNew`); existing paths keep their owners.
 */
export async function createBindSources(mounts: ContainerSpec['mounts'], range: IdRange): Promise<void> {
  for (const m of mounts ?? []) {
    if (m.type !== 'bind' || m.createHostPath === false || !m.source || !path.isAbsolute(m.source)) continue;
    const made: string[] = [];
    for (let p = path.resolve(m.source); !(await fs.lstat(p).catch(() => undefined)); p = path.dirname(p)) made.push(p);
    if (made.length === 0) continue;
    await fs.mkdir(m.source, { recursive: true, mode: 0o755 });
    for (const d of made) await fs.chown(d, range.uid, range.gid);
  }
}

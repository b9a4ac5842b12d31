/**
 * `network_mode` (or `pid`, `ipc`, `uts`) `service:X` / `container:X` under the remap: the container joins X's namespace, which
 * belongs to X's user namespace (../oci/userns-opts.ts), so it joins that user namespace too, through
 * `/run/tscompose-userns/<range>/<X id>.userns`: bound here from X's running process, and again by X's hook whenever X starts
 * anew (its restart makes new namespaces; the joiner's restart then finds the new ones at the same path). X must be
 * remapped with the same range: a remapped container cannot use the network namespace of one that is not (runc could
 * neither mount its sysfs nor exec into it). A container with `userns_mode: host` may join any (host root can).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { TsComposeError } from '../../../errors.js';
import type { ContainerSpec } from '../../runtime.js';
import type { NativeContext } from '../context.js';
import { containerUserns } from '../rootfs.js';
import { isMounted } from '../../../lib/fs/mounts.js';
import { rangeKey, usernsRunDir, type IdRange } from './idmap.js';
import { ensureUsernsRunDir } from './rundir.js';

const execFileP = promisify(execFile);

/** The user namespace a container joining another one's network namespace uses (see the header). */
export async function joinedUserns(
  ctx: NativeContext,
  spec: Pick<ContainerSpec, 'name' | 'networkMode' | 'pidMode' | 'ipcMode' | 'utsMode'>,
  range: IdRange | undefined,
): Promise<(IdRange & { path?: string }) | undefined> {
  // pid/ipc/uts `container:X` too: X's namespaces belong to X's user namespace (moby joins it for pid and ipc).
  const targets = [...new Set([spec.networkMode, spec.pidMode, spec.ipcMode, spec.utsMode].filter((m) => m?.startsWith('container:')))];
  // Not remapped (userns_mode: host): the host's root may join any network namespace.
  if (!range || targets.length === 0) return range;
  if (targets.length > 1) {
    throw new TsComposeError(
      'TSC_USERNS_NETWORK_MISMATCH',
      `container ${spec.name}: under the user-namespace remap it can join the namespaces of one container only, not ${targets.join(' and ')}`,
      { hint: 'give this service `userns_mode: host`, or join one container' },
    );
  }
  const other = await ctx.state.find(targets[0]!.slice('container:'.length));
  if (!other) return range; // networkOf reported it already
  const otherRange = await containerUserns(ctx, other.id);
  if (!otherRange || rangeKey(otherRange) !== rangeKey(range)) {
    throw new TsComposeError(
      'TSC_USERNS_NETWORK_MISMATCH',
      `container ${spec.name}: cannot join the network namespace of ${other.name}: it is not in this container's user namespace remap`,
      { hint: `give this service \`userns_mode: host\` too, or remove it from ${other.name}'s service` },
    );
  }
  if (other.state.pid === undefined) return range;
  const file = path.join(usernsRunDir(range), `${other.id}.userns`);
  if (!(await isMounted(file))) {
    await ensureUsernsRunDir(range);
    await fs.writeFile(file, '', { flag: 'a' });
    await execFileP('mount', ['--bind', `/proc/${other.state.pid}/ns/user`, file]);
  }
  return { ...range, path: file };
}

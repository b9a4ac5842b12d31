/**
 * compose `blkio_config` in the OCI spec (`linux.resources.blockIO`), as moby's `daemon/oci_linux.go` and
 * `daemon/daemon_unix.go` map it: a device's path becomes its major:minor (a stat of the host path), the weight is
 * checked against 10..1000, and what the host's kernel cannot apply is discarded (Docker warns "Your kernel does not
 * support Block I/O weight … Weight discarded"): weights need a proportional-share scheduler's files (CFQ or BFQ:
 * v1 `blkio.weight`/`blkio.bfq.weight`; v2 the `io` controller), throttles blk-throttle's `blkio.throttle.*`.
 * The runtime (runc or crun) writes the cgroup files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { TsComposeError } from '../../../errors.js';
import type { BlkioDeviceSpec } from '../../runtime.js';
import { detectCgroupMode, type CgroupMode } from './cgroups.js';
import type { SpecOpt } from './spec-opts.js';
import type { BlkioSupport, OciBlockDevice, OciBlockIO } from './spec-types.js';

/** A block device's major:minor, from the host path (a stat, as moby's getBlkio*Devices). */
export function blockDeviceNumbers(file: string): { major: number; minor: number } {
  let rdev: number;
  try {
    rdev = statSync(file).rdev;
  } catch (e) {
    throw new TsComposeError(
      'TSC_INVALID_RESOURCES',
      `blkio_config: ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`,
    );
  }
  // glibc's gnu_dev_major / gnu_dev_minor on the 32 bits Node can hold exactly (majors and minors below 4096/1M).
  return { major: ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff), minor: (rdev & 0xff) | ((rdev >>> 12) & ~0xff) };
}

/** The host's block-IO control, as Docker's sysinfo reads it (`fsRoot` for tests). */
export function blkioSupport(fsRoot = '/', mode: CgroupMode = detectCgroupMode(fsRoot)): BlkioSupport {
  const cg = path.join(fsRoot, 'sys/fs/cgroup');
  if (mode === 'v2') {
    let controllers: string[] = [];
    try {
      controllers = readFileSync(path.join(cg, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    } catch {
      // no controllers file: nothing supported
    }
    const io = controllers.includes('io');
    return { weight: io, weightDevice: io, throttle: io };
  }
  const has = (f: string): boolean => existsSync(path.join(cg, 'blkio', f));
  return {
    weight: has('blkio.weight') || has('blkio.bfq.weight'),
    weightDevice: has('blkio.weight_device') || has('blkio.bfq.weight_device'),
    throttle: has('blkio.throttle.read_bps_device'),
  };
}

function checkWeight(what: string, w: number): void {
  if (!Number.isInteger(w) || w < 10 || w > 1000) throw new TsComposeError('TSC_INVALID_RESOURCES', `Range of blkio ${what} is from 10 to 1000`);
}

/** `linux.resources.blockIO` from compose `blkio_config` (what the host cannot apply left out). */
export const withBlockIO: SpecOpt = (s, { spec, blockDevice = blockDeviceNumbers, blkioSupport: support }) => {
  const b = spec.resources?.blkio;
  if (!b) return;
  const can = support ?? { weight: true, weightDevice: true, throttle: true };
  const devices = (list: readonly BlkioDeviceSpec[] | undefined, field: 'weight' | 'rate'): OciBlockDevice[] =>
    (list ?? []).map((d) => {
      if (field === 'weight') {
        if (d.value !== 0) checkWeight('weight_device weight', d.value);
      } else if (!Number.isInteger(d.value) || d.value < 0)
        throw new TsComposeError('TSC_INVALID_RESOURCES', `blkio_config: invalid rate ${d.value} for ${d.path}`);
      const { major, minor } = blockDevice(d.path);
      return { major, minor, [field]: d.value };
    });
  // What the kernel cannot apply is discarded first, unchecked (Docker's order: its weight range error only for a
  // weight it keeps).
  const io: OciBlockIO = {};
  if (b.weight !== undefined && b.weight !== 0 && can.weight) {
    checkWeight('weight', b.weight);
    io.weight = b.weight;
  }
  const weightDevice = can.weightDevice ? devices(b.weightDevice, 'weight') : [];
  if (weightDevice.length > 0) io.weightDevice = weightDevice;
  const throttles = [
    ['throttleReadBpsDevice', b.deviceReadBps],
    ['throttleWriteBpsDevice', b.deviceWriteBps],
    ['throttleReadIOPSDevice', b.deviceReadIops],
    ['throttleWriteIOPSDevice', b.deviceWriteIops],
  ] as const;
  for (const [key, list] of throttles) {
    const d = can.throttle ? devices(list, 'rate') : [];
    if (d.length > 0) io[key] = d;
  }
  if (Object.keys(io).length > 0) (s.linux.resources ??= {}).blockIO = io;
};

/**
 * Device nodes: the host's (read with stat, for compose `devices:` and privileged containers) and how a compose
 * device becomes OCI `linux.devices` entries and device cgroup rules.
 */
import { lstatSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { TsComposeError } from '../../../errors.js';
import type { DeviceSpec } from '../../runtime.js';
import type { HostDevice, OciDevice, OciDeviceCgroup } from './spec-types.js';

/**
 * The OCI devices and cgroup rules of one compose device (`/dev/x[:/dev/y[:rwm]]`); a directory maps each device
 * below it to the same relative path below the target. TsComposeError `TSC_INVALID_DEVICE` for a bad mode or a
 * source that is no device.
 */
export function deviceEntries(d: DeviceSpec, hostDevices: (source: string) => HostDevice[]): { devices: OciDevice[]; rules: OciDeviceCgroup[] } {
  const access = d.permissions && d.permissions !== '' ? d.permissions : 'rwm';
  if (!/^[rwm]{1,3}$/.test(access)) throw new TsComposeError('TSC_INVALID_DEVICE', `invalid device mode: ${access}`);
  const found = hostDevices(d.source);
  if (found.length === 0)
    throw new TsComposeError('TSC_INVALID_DEVICE', `error gathering device information while adding custom device "${d.source}": not a device node`);
  const devices: OciDevice[] = [];
  const rules: OciDeviceCgroup[] = [];
  const target = d.target || d.source;
  for (const h of found) {
    const rel = h.path === d.source ? '' : path.posix.relative(d.source, h.path);
    devices.push({ ...hostDeviceEntry(h), path: rel ? path.posix.join(target, rel) : target });
    rules.push({ allow: true, type: h.type, major: h.major, minor: h.minor, access });
  }
  return { devices, rules };
}

/** `linux.devices` entry of a host device at its own path. */
export function hostDeviceEntry(h: HostDevice): OciDevice {
  return { path: h.path, type: h.type, major: h.major, minor: h.minor, fileMode: h.fileMode, uid: h.uid, gid: h.gid };
}

// ---------------------------------------------------------------------------------------------------------------
// Host lookups

function devMajor(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
}
function devMinor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

function toHostDevice(p: string, st: BigIntStats): HostDevice | undefined {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  return {
    path: p,
    type,
    major: devMajor(st.rdev),
    minor: devMinor(st.rdev),
    fileMode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
  };
}

/**
 * The device node(s) at a host path (following symlinks): one for a device node, every device below it for a
 * directory (as `docker run --device /dev/dri` does), none for anything else.
 */
export function hostDevicesFor(source: string): HostDevice[] {
  let st: BigIntStats;
  try {
    st = statSync(source, { bigint: true });
  } catch (err) {
    throw new TsComposeError(
      'TSC_INVALID_DEVICE',
      `error gathering device information while adding custom device "${source}": ${(err as Error).message}`,
    );
  }
  if (st.isDirectory()) return listHostDevices(source, []);
  const d = toHostDevice(source, st);
  return d ? [d] : [];
}

/** Docker's/containerd's `HostDevices`: every device below `dir` (default /dev), skipping pts, shm, mqueue, … */
export function listHostDevices(
  dir = '/dev',
  skip: readonly string[] = ['pts', 'shm', 'mqueue', 'fd', '.lxc', '.lxd-mounts', '.udev'],
): HostDevice[] {
  const out: HostDevice[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    if (skip.includes(name) || (dir === '/dev' && name === 'console')) continue;
    const p = path.join(dir, name);
    let st: BigIntStats;
    try {
      st = lstatSync(p, { bigint: true });
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      out.push(...listHostDevices(p, skip));
      continue;
    }
    const d = toHostDevice(p, st);
    if (d) out.push(d);
  }
  return out;
}

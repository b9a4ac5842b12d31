/**
 * A service's `volumes:` and `tmpfs:` → swarm mounts. Follows docker/cli's cli/compose/convert/volume.go: a named
 * volume mounts `<project>_<key>` (or its `name:`) with VolumeOptions carrying the stack label, the volume's
 * labels and its driver, so the node that first runs a task creates it the same everywhere; an external volume
 * is mounted by name, with no options; anonymous volumes, binds, tmpfs, npipe, image and cluster mounts keep their
 * fields. Extension: the service-level `tmpfs:` list (which docker stack drops) becomes tmpfs mounts, its
 * `size=`/`mode=` options as TmpfsOptions.
 */
import type { Project, ServiceConfig, ServiceVolumeConfig } from '../project/types.js';
import type { Mount } from './api-types.js';
import { bytesOf, stackLabels, type Warn, sortedMap } from './convert-names.js';
import { volumeName } from './convert-objects.js';
import { SwarmConvertError } from './errors.js';

function fileMode(value: unknown, service: string, key: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^0?[0-7]{1,4}$/.test(value)) return parseInt(value, 8);
  throw new SwarmConvertError(service, key, `invalid file mode ${JSON.stringify(value)}`);
}

function volumeMount(project: Project, service: string, v: ServiceVolumeConfig, key: string, base: Mount): Mount {
  if (!v.source) return base;
  const top = project.volumes?.[v.source];
  if (!top) throw new SwarmConvertError(service, `${key}.source`, `undefined volume ${JSON.stringify(v.source)}`);
  const { Type, ...rest } = base;
  const m: Mount = { Type, Source: volumeName(project, v.source), ...rest };
  const opts: NonNullable<Mount['VolumeOptions']> = {};
  if (v.volume?.nocopy) opts.NoCopy = true;
  if (v.volume?.subpath) opts.Subpath = v.volume.subpath;
  if (!top.external) {
    opts.Labels = stackLabels(project.name, { ...top.labels, ...v.volume?.labels });
    if (top.driver !== undefined || top.driver_opts !== undefined)
      opts.DriverConfig = {
        ...(top.driver !== undefined ? { Name: top.driver } : {}),
        ...(top.driver_opts ? { Options: sortedMap(top.driver_opts) } : {}),
      };
  }
  m.VolumeOptions = opts;
  return m;
}

function mountOf(project: Project, service: string, v: ServiceVolumeConfig, i: number, warn: Warn): Mount {
  const key = `volumes[${i}]`;
  if (v.type !== 'tmpfs' && v.type !== 'volume' && !v.source)
    throw new SwarmConvertError(service, `${key}.source`, `a ${v.type} mount needs a source`);
  if (v.type === 'tmpfs' && v.source) throw new SwarmConvertError(service, `${key}.source`, 'a tmpfs mount has no source');
  // Field order as the Engine API's Mount (Type, Source, Target, …), for readable output.
  const base: Mount = v.source && v.type !== 'volume' ? { Type: v.type, Source: v.source, Target: v.target } : { Type: v.type, Target: v.target };
  if (v.read_only) base.ReadOnly = true;
  if (v.consistency !== undefined) base.Consistency = v.consistency;
  switch (v.type) {
    case 'volume':
      return volumeMount(project, service, v, key, base);
    case 'bind':
    case 'npipe':
      if (v.bind?.propagation !== undefined) base.BindOptions = { Propagation: v.bind.propagation };
      if (v.bind?.selinux !== undefined)
        warn(service, `${key}.bind.selinux`, 'SELinux relabelling of a bind mount is not supported by swarm services; ignored');
      return base;
    case 'tmpfs': {
      const t: NonNullable<Mount['TmpfsOptions']> = {};
      if (v.tmpfs?.size !== undefined) t.SizeBytes = bytesOf(v.tmpfs.size, service, `${key}.tmpfs.size`);
      if (v.tmpfs?.mode !== undefined) t.Mode = fileMode(v.tmpfs.mode, service, `${key}.tmpfs.mode`);
      if (Object.keys(t).length > 0) base.TmpfsOptions = t;
      return base;
    }
    case 'image':
      if (v.image?.subpath) base.ImageOptions = { Subpath: v.image.subpath };
      return base;
    case 'cluster': {
      const source = v.source ?? '';
      base.Source = source.startsWith('group:') || !project.volumes?.[source] ? source : volumeName(project, source);
      return { ...base, ClusterOptions: {} };
    }
    default:
      throw new SwarmConvertError(service, `${key}.type`, `unknown mount type ${JSON.stringify(v.type)}`);
  }
}

/** `/run` or `/tmp:size=64m,mode=1777,noexec` (Docker's tmpfs option string) → a tmpfs mount. */
export function tmpfsMount(spec: string, service: string, key: string): Mount {
  const colon = spec.indexOf(':');
  const target = colon < 0 ? spec : spec.slice(0, colon);
  if (!target.startsWith('/')) throw new SwarmConvertError(service, key, `tmpfs target ${JSON.stringify(target)} is not an absolute path`);
  const m: Mount = { Type: 'tmpfs', Target: target };
  if (colon < 0) return m;
  const t: NonNullable<Mount['TmpfsOptions']> = {};
  const extra: string[][] = [];
  for (const opt of spec.slice(colon + 1).split(',')) {
    if (opt === '') continue;
    const eq = opt.indexOf('=');
    const [k, val] = eq < 0 ? [opt, undefined] : [opt.slice(0, eq), opt.slice(eq + 1)];
    if (k === 'size' && val !== undefined) t.SizeBytes = bytesOf(val, service, `${key}.size`);
    else if (k === 'mode' && val !== undefined) t.Mode = fileMode(val, service, `${key}.mode`);
    else if (k === 'ro') m.ReadOnly = true;
    else extra.push(val === undefined ? [k] : [k, val]);
  }
  if (extra.length > 0) t.Options = extra;
  if (Object.keys(t).length > 0) m.TmpfsOptions = t;
  return m;
}

/** All mounts of a service: `volumes:` in order, then `tmpfs:`. */
export function convertMounts(project: Project, service: string, svc: ServiceConfig, warn: Warn): Mount[] {
  const mounts = (svc.volumes ?? []).map((v, i) => mountOf(project, service, v, i, warn));
  (svc.tmpfs ?? []).forEach((t, i) => mounts.push(tmpfsMount(t, service, `tmpfs[${i}]`)));
  return mounts;
}

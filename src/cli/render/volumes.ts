/**
 * What `volumes` prints, as docker compose (docker CLI's volume formatter): names only (`-q`), one JSON object per
 * line (`--format json`: the volume formatter's fields; `N/A` for usage and cluster data, which compose never asks
 * for), the `DRIVER  VOLUME NAME` table, docker's `raw` blocks, or a Go template over the same fields
 * (`{{.Name}}`, `table {{.Name}}\t{{.Mountpoint}}`).
 */
import type { VolumeInfo } from '../../runtime/runtime.js';
import { renderFormat } from './template.js';

const labelsText = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** The volume formatter's fields (docker CLI `volumeContext`), in its JSON's (sorted) order. */
export function volumeFields(v: VolumeInfo): Record<string, string> {
  return {
    Availability: 'N/A',
    Driver: v.driver,
    Group: 'N/A',
    Labels: labelsText(v.labels),
    Links: 'N/A',
    Mountpoint: v.mountpoint ?? '',
    Name: v.name,
    Scope: 'local',
    Size: 'N/A',
    Status: 'N/A',
  };
}

const HEADERS = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Group: 'GROUP',
  Availability: 'AVAILABILITY',
  Status: 'STATUS',
};

/** docker's `raw` format: a `name:`/`driver:` block per volume, each followed by an empty line. */
const RAW = 'name: {{.Name}}\\ndriver: {{.Driver}}\\n';

/** `volumes` output as `--format` says: `table` (or `table TEMPLATE`), `json`, `raw` or a Go template; `-q`: names. */
export function volumesText(volumes: readonly VolumeInfo[], opts: { quiet?: boolean | undefined; format?: string | undefined }): string {
  if (opts.quiet) return volumes.map((v) => `${v.name}\n`).join('');
  const format = opts.format === 'raw' ? RAW : (opts.format ?? 'table');
  return renderFormat(format, volumes.map(volumeFields), { defaultTable: 'table {{.Driver}}\\t{{.Name}}', headers: HEADERS });
}

/**
 * What `volumes` prints, as docker compose (docker CLI's volume formatter): names only (`-q`), one JSON object per
 * line (`--format json`: the volume formatter's fields; `N/A` for usage and cluster data, which compose never asks
 * for) or the `DRIVER  VOLUME NAME` table.
 */
import type { VolumeInfo } from '../../runtime/runtime.js';
import { table } from './table.js';

const labelsText = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export function volumesText(volumes: readonly VolumeInfo[], opts: { quiet?: boolean | undefined; format?: string | undefined }): string {
  if (opts.quiet) return volumes.map((v) => `${v.name}\n`).join('');
  if (opts.format === 'json') {
    return volumes
      .map(
        (v) =>
          `${JSON.stringify({
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
          })}\n`,
      )
      .join('');
  }
  return table(
    ['DRIVER', 'VOLUME NAME'],
    volumes.map((v) => [v.driver, v.name]),
  );
}

/** What `tscompose image …` prints: docker's `image ls` table and JSON lines, `rmi` and `image prune` reports. */
import type { ImageRemoval, ImageRow } from '../../engine/image-tools.js';
import type { PruneResult } from '../../runtime/runtime.js';
import { table } from './table.js';

/** Sizes as `docker image ls` shows them (go-units HumanSizeWithPrecision, 3 digits): `4.26MB`, `131MB`, `0B`. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** go-units HumanDuration + ` ago`: `Less than a second ago`, `5 minutes ago`, `About an hour ago`, `3 weeks ago`. */
export function timeAgo(thenMs: number, nowMs: number): string {
  const seconds = Math.floor((nowMs - thenMs) / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.round((nowMs - thenMs) / 3_600_000);
  let d: string;
  if (seconds < 1) d = 'Less than a second';
  else if (seconds === 1) d = '1 second';
  else if (seconds < 60) d = `${seconds} seconds`;
  else if (minutes === 1) d = 'About a minute';
  else if (minutes < 60) d = `${minutes} minutes`;
  else if (hours === 1) d = 'About an hour';
  else if (hours < 48) d = `${hours} hours`;
  else if (hours < 24 * 7 * 2) d = `${Math.floor(hours / 24)} days`;
  else if (hours < 24 * 30 * 2) d = `${Math.floor(hours / 24 / 7)} weeks`;
  else if (hours < 24 * 365 * 2) d = `${Math.floor(hours / 24 / 30)} months`;
  else d = `${Math.floor(Math.floor((nowMs - thenMs) / 3_600_000) / 24 / 365)} years`;
  return `${d} ago`;
}

const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

export interface ImageLsFormat {
  readonly quiet?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly noTrunc?: boolean | undefined;
  readonly digests?: boolean | undefined;
  /** Unix milliseconds (CREATED column). */
  readonly now: number;
}

/** `image ls`: ids (`-q`, each once), one docker-shaped JSON object per line, or the table. */
export function imageLsText(rows: readonly ImageRow[], f: ImageLsFormat): string {
  const id = (r: ImageRow): string => (f.noTrunc ? r.id : shortId(r.id));
  if (f.quiet) return [...new Set(rows.map(id))].map((i) => `${i}\n`).join('');
  if (f.json) {
    return rows
      .map((r) => {
        const obj = {
          Containers: 'N/A',
          CreatedAt: `${new Date(r.created)
            .toISOString()
            .replace('T', ' ')
            .replace(/\.\d+Z$/, '')} +0000 UTC`,
          CreatedSince: timeAgo(r.created, f.now),
          Digest: r.digest,
          ID: id(r),
          Repository: r.repository,
          SharedSize: 'N/A',
          Size: humanSize(r.sizeBytes),
          Tag: r.tag,
          UniqueSize: 'N/A',
          VirtualSize: humanSize(r.sizeBytes),
        };
        return `${JSON.stringify(obj)}\n`;
      })
      .join('');
  }
  const headers = f.digests ? ['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE'] : ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
  return table(
    headers,
    rows.map((r) => [r.repository, r.tag, ...(f.digests ? [r.digest] : []), id(r), timeAgo(r.created, f.now), humanSize(r.sizeBytes)]),
  );
}

/** `Untagged: …` / `Deleted: sha256:…` lines, as `docker rmi`. */
export function removalText(r: ImageRemoval): string {
  return r.untagged.map((u) => `Untagged: ${u}\n`).join('') + (r.deleted === undefined ? '' : `Deleted: ${r.deleted}\n`);
}

/** `image prune`'s report: what went, then the space reclaimed. */
export function pruneText(res: PruneResult): string {
  let text = '';
  if (res.deleted.length > 0) {
    text += 'Deleted Images:\n';
    for (const d of res.deleted) text += `${/^sha256:/.test(d) || !/[:@]/.test(d) ? 'deleted' : 'untagged'}: ${d}\n`;
    text += '\n';
  }
  return `${text}Total reclaimed space: ${humanSize(res.reclaimedBytes)}\n`;
}

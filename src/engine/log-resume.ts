/**
 * Following a container's log across its restarts without printing a line twice (attached `up`, `logs -f`): a
 * stream re-attached after a restart (from the restart's start event, or from the end of the previous stream)
 * starts where the new run begins, which an earlier stream may already have read past (a native follower can
 * read on across a quick restart). Lines carry their timestamps (the log's own, nanoseconds); a new stream skips
 * the lines up to the last one given, counting those that share its timestamp (conmon stamps a whole read at once).
 */
import type { LogLine } from '../runtime/runtime.js';

/** A sortable key of an RFC 3339 timestamp with up to 9 fraction digits; undefined when it does not parse. */
export function timeKey(t: string): string | undefined {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return `${String(ms).padStart(15, '0')}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}`;
}

export class LogResume {
  private readonly last = new Map<string, { key: string; count: number }>();

  /** The filter of a new stream of container `id`: false for a line an earlier stream already gave. */
  stream(id: string): (line: LogLine) => boolean {
    const prev = this.last.get(id);
    let skip = prev?.count ?? 0;
    return (line) => {
      const key = line.timestamp === undefined ? undefined : timeKey(line.timestamp);
      if (key === undefined) return true;
      if (prev && key < prev.key) return false;
      if (prev && key === prev.key && skip > 0) {
        skip--;
        return false;
      }
      const cur = this.last.get(id);
      this.last.set(id, cur?.key === key ? { key, count: cur.count + 1 } : { key, count: 1 });
      return true;
    };
  }
}

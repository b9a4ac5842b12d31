/**
 * What `stats` prints: docker's stats table (`CONTAINER ID  NAME  CPU %  MEM USAGE / LIMIT  MEM %  NET I/O  BLOCK I/O
 * PIDS`), `--format json` lines or a template (./template.ts), with docker/cli's field names and units
 * (`cli/command/container/formatter_stats.go`): percentages with two decimals, memory in binary units (go-units
 * BytesSize: `10MiB / 1.944GiB`), I/O in decimal ones (`1.2kB / 0B`).
 */
import type { StatsRow } from '../../engine/stats.js';
import { humanSize } from './images.js';
import { renderFormat } from './template.js';

const DEFAULT_TABLE = 'table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}\\t{{.BlockIO}}\\t{{.PIDs}}';

const HEADERS = {
  ID: 'CONTAINER ID',
  Container: 'CONTAINER',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

/** go-units BytesSize: binary units, 4 significant digits (`0B`, `512KiB`, `1.953GiB`). */
export function bytesSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** The fields a stats template sees (docker's stats context). */
export function statsFields(r: StatsRow, noTrunc = false): Record<string, string> {
  return {
    BlockIO: `${humanSize(r.blockReadBytes)} / ${humanSize(r.blockWriteBytes)}`,
    CPUPerc: `${r.cpuPercent.toFixed(2)}%`,
    Container: r.name,
    ID: noTrunc ? r.id : r.id.slice(0, 12),
    MemPerc: `${r.memoryPercent.toFixed(2)}%`,
    MemUsage: `${bytesSize(r.memoryBytes)} / ${bytesSize(r.memoryLimitBytes)}`,
    Name: r.name,
    NetIO: `${humanSize(r.netRxBytes)} / ${humanSize(r.netTxBytes)}`,
    PIDs: String(r.pids),
  };
}

/** One round of `stats` as `format` says (`table` or '' for the default table). */
export function statsText(rows: readonly StatsRow[], format: string, noTrunc = false): string {
  return renderFormat(
    format,
    rows.map((r) => statsFields(r, noTrunc)),
    { defaultTable: DEFAULT_TABLE, headers: HEADERS },
  );
}

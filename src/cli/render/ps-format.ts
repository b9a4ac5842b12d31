/**
 * `ps --format TEMPLATE` (and `table TEMPLATE`): docker compose's container context fields (compose
 * `cmd/formatter/container.go`) for ./template.ts — ID (12 characters unless `--no-trunc`), Name, Names, Project,
 * Service, Image, Command (quoted, 20 characters unless `--no-trunc`), CreatedAt, RunningFor, Ports, State, Status,
 * Health, ExitCode, Labels (`k=v,…`), Publishers.
 * `table` alone and `json` stay ./project.ts's psText.
 */
import type { PsRow } from '../../engine/query.js';
import { timeAgo } from './images.js';
import { commandText, formatPorts, statusText } from './project.js';
import { renderFormat } from './template.js';

const HEADERS = {
  ID: 'CONTAINER ID',
  Name: 'NAME',
  Names: 'NAMES',
  Project: 'PROJECT',
  Service: 'SERVICE',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Health: 'HEALTH',
  ExitCode: 'EXIT CODE',
  Labels: 'LABELS',
  Publishers: 'PUBLISHERS',
};

/** `2026-01-01 12:00:00 +0000 UTC`, as Go prints a time. */
const goTime = (ms: number): string =>
  `${new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')} +0000 UTC`;

export function psFields(r: PsRow, noTrunc: boolean, nowMs: number): Record<string, unknown> {
  return {
    ID: noTrunc ? r.id : r.id.slice(0, 12),
    Name: r.name,
    Names: r.name,
    Project: r.project,
    Service: r.service,
    Image: r.image,
    Command: commandText(r, noTrunc),
    CreatedAt: goTime(r.created),
    RunningFor: timeAgo(r.created, nowMs),
    Ports: formatPorts(r),
    State: r.state,
    Status: statusText(r),
    Health: r.health,
    ExitCode: r.exitCode,
    Labels: Object.entries(r.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Publishers: r.ports.map((p) => ({
      URL: p.hostIp ?? '0.0.0.0',
      TargetPort: p.containerPort,
      PublishedPort: p.hostPort ?? 0,
      Protocol: p.protocol,
    })),
  };
}

/** `ps` rows through a `--format` template (`table {{.Name}}\t{{.Status}}`, `{{.ID}}`, `{{json .}}`). */
export function psTemplateText(rows: readonly PsRow[], format: string, opts: { noTrunc?: boolean | undefined; nowMs?: number } = {}): string {
  const now = opts.nowMs ?? Date.now();
  return renderFormat(
    format,
    rows.map((r) => psFields(r, opts.noTrunc === true, now)),
    { defaultTable: 'table {{.Name}}\\t{{.Image}}\\t{{.Command}}\\t{{.Service}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}', headers: HEADERS },
  );
}

/** What the project commands print: `ps`, `ls`, `images`, `top` tables (or JSON) and `events` lines, as docker compose. */
import type { ImageRow } from '../../engine/images.js';
import type { ComposeEvent, LsRow, PsRow } from '../../engine/query.js';
import type { ProcessList } from '../../runtime/runtime.js';
import { timeAgo } from './images.js';
import { table } from './table.js';
import { renderFormat } from './template.js';

/** `0.0.0.0:8080->80/tcp, 443/tcp`. */
export function formatPorts(r: PsRow): string {
  return r.ports
    .map((p) =>
      p.hostPort === undefined ? `${p.containerPort}/${p.protocol}` : `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.protocol}`,
    )
    .join(', ');
}

/** `Up`, `Up (healthy)`, `Exited (1)`, `Created`. */
export function statusText(r: PsRow): string {
  if (r.status === 'exited') return `Exited (${r.exitCode})`;
  if (r.status === 'running') return r.health ? `Up (${r.health})` : 'Up';
  return r.status[0]!.toUpperCase() + r.status.slice(1);
}

/**
 * The command line as the Docker daemon lists it (`Command`): the program, then its arguments, an argument with a
 * space in single quotes.
 */
export function commandLine(args: readonly string[]): string {
  return args.map((a, i) => (i > 0 && a.includes(' ') ? `'${a}'` : a)).join(' ');
}

/** docker's formatter.Ellipsis: at most `max` characters, the last one `…` when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

const GO_ESCAPES: Readonly<Record<string, string>> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** Go's strconv.Quote (for printable text and ASCII control characters). */
export function goQuote(s: string): string {
  let body = '';
  for (const c of s) {
    const code = c.charCodeAt(0);
    if (c === '\\' || c === '"') body += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) body += GO_ESCAPES[c] ?? `\\x${code.toString(16).padStart(2, '0')}`;
    else body += c;
  }
  return `"${body}"`;
}

/** `ps`'s COMMAND: quoted, cut to 20 characters unless `--no-trunc` (docker compose's ContainerContext.Command). */
export function commandText(r: PsRow, noTrunc = false): string {
  const line = commandLine(r.command);
  return goQuote(noTrunc ? line : ellipsis(line, 20));
}

/** `ps`: one JSON object per line (`--format json`) or the table. */
export function psText(rows: readonly PsRow[], format: 'table' | 'json', nowMs = Date.now(), noTrunc = false): string {
  if (format === 'json') {
    return rows
      .map(
        (r) =>
          `${JSON.stringify({ ID: r.id, Name: r.name, Image: r.image, Command: commandText(r, noTrunc), Project: r.project, Service: r.service, State: r.state, Health: r.health, ExitCode: r.exitCode, Status: statusText(r), Publishers: r.ports.map((p) => ({ URL: p.hostIp ?? '0.0.0.0', TargetPort: p.containerPort, PublishedPort: p.hostPort ?? 0, Protocol: p.protocol })) })}\n`,
      )
      .join('');
  }
  return table(
    ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'],
    rows.map((r) => [r.name, r.image, commandText(r, noTrunc), r.service, timeAgo(r.created, nowMs), statusText(r), formatPorts(r)]),
  );
}

/**
 * `--format` of `ls` and `images` as docker compose's formatter.Print reads it (case-insensitive): `table`, `pretty` or
 * nothing → the table, `json` → one JSON array, `{{json.}}` → one JSON object per line. Any other value is, beyond
 * docker compose (which refuses it), a Go template over the JSON fields (`{{.Name}}`, `table {{.Name}}\t{{.Status}}`).
 */
export type ListFormat = 'table' | 'json' | 'json-lines' | 'template';

export function listFormat(format: string | undefined): ListFormat {
  const f = (format ?? '').toLowerCase();
  if (f === 'table' || f === 'pretty' || f === '') return 'table';
  if (f === 'json') return 'json';
  if (f === '{{json.}}') return 'json-lines';
  return 'template';
}

function listText(items: readonly object[], format: string | undefined, headers: Readonly<Record<string, string>>, tableText: () => string): string {
  switch (listFormat(format)) {
    case 'table':
      return tableText();
    case 'json':
      return `${JSON.stringify(items)}\n`;
    case 'json-lines':
      return items.map((it) => `${JSON.stringify(it)}\n`).join('');
    case 'template':
      return renderFormat(format!, items, { defaultTable: 'table', headers });
  }
}

const lsFields = (r: LsRow) => ({ Name: r.name, Status: r.status, ConfigFiles: r.configFiles });

/** `ls`: names only (`-q`), or as `--format` says (see {@link listFormat}). */
export function lsText(rows: readonly LsRow[], opts: { quiet?: boolean | undefined; format?: string | undefined }): string {
  if (opts.quiet) return rows.map((r) => `${r.name}\n`).join('');
  return listText(rows.map(lsFields), opts.format, { Name: 'NAME', Status: 'STATUS', ConfigFiles: 'CONFIG FILES' }, () =>
    table(
      ['NAME', 'STATUS', 'CONFIG FILES'],
      rows.map((r) => [r.name, r.status, r.configFiles]),
    ),
  );
}

const human = (n: number | undefined): string => {
  if (n === undefined) return '';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)}${units[i]}`;
};

const imageFields = (r: ImageRow) => ({ ContainerName: r.container, Repository: r.repository, Tag: r.tag, ID: r.id, Size: r.sizeBytes ?? 0 });

/** `images`: ids only (`-q`, each once), or as `--format` says (see {@link listFormat}). */
export function imagesText(rows: readonly ImageRow[], opts: { quiet?: boolean | undefined; format?: string | undefined }): string {
  if (opts.quiet) return [...new Set(rows.map((r) => r.id))].map((id) => `${id}\n`).join('');
  const headers = { ContainerName: 'CONTAINER', Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Size: 'SIZE' };
  return listText(rows.map(imageFields), opts.format, headers, () =>
    table(
      ['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'],
      rows.map((r) => [r.container, r.repository, r.tag, r.id.replace(/^sha256:/, '').slice(0, 12), human(r.sizeBytes)]),
    ),
  );
}

/** `top`: each container's name, then its process table. */
export function topText(list: readonly { name: string; processes: ProcessList }[]): string {
  return list.map(({ name, processes }) => `${name}\n${table(processes.titles, processes.processes)}\n`).join('');
}

/** `events`: one line per event, or one JSON object per line (`--json`). */
export function eventLine(e: ComposeEvent, json: boolean): string {
  const time = new Date(e.time).toISOString();
  if (json) return `${JSON.stringify({ time, type: e.type, action: e.action, id: e.id, service: e.service, attributes: e.attributes })}\n`;
  const attrs = Object.entries(e.attributes)
    .filter(([k]) => !k.startsWith('com.docker.compose.'))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${time} ${e.type} ${e.action} ${e.id}${attrs ? ` (${attrs})` : ''}\n`;
}

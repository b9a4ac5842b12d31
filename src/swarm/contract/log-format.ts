/**
 * The text format of `SwarmApi.serviceLogs` (../port.ts), the same for every adapter: what Docker Engine's
 * `GET /services/{id}/logs?stdout=1&stderr=1&details=1` sends once its 8-byte stdout/stderr framing is removed,
 * stdout and stderr merged in arrival order, one message per line:
 *
 *     [<RFC 3339 timestamp, nanoseconds> ]<details> <message>\n
 *
 * The timestamp is there only with `timestamps: true`. `details` is a comma-separated list of `key=value` pairs,
 * each URL-encoded (Go's url.QueryEscape), always with `com.docker.swarm.node.id`, `com.docker.swarm.service.id`
 * and `com.docker.swarm.task.id` (the engine adds the log driver's `labels`/`env` attributes, if any, before them);
 * `docker service logs` prints the task as `<service>.<slot>` (or `.<node id>` for global services) from those.
 * A message without a trailing newline (the last of a stream cut off) ends the stream without one.
 */

export const NODE_ID = 'com.docker.swarm.node.id';
export const SERVICE_ID = 'com.docker.swarm.service.id';
export const TASK_ID = 'com.docker.swarm.task.id';

export interface ServiceLogLine {
  readonly timestamp?: string | undefined;
  /** The details: at least NODE_ID, SERVICE_ID and TASK_ID. */
  readonly details: Readonly<Record<string, string>>;
  readonly message: string;
}

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) /;

const escape = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');
const unescape = (s: string): string => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
};

/** One line of the format (with its newline) for `message` (without one). */
export function formatServiceLogLine(line: ServiceLogLine): string {
  const details = Object.entries(line.details)
    .map(([k, v]) => `${escape(k)}=${escape(v)}`)
    .join(',');
  return `${line.timestamp !== undefined ? `${line.timestamp} ` : ''}${details} ${line.message}\n`;
}

/** Splits a line of the format (newline optional). A line without details comes back with `details` empty. */
export function parseServiceLogLine(text: string): ServiceLogLine {
  let rest = text.endsWith('\n') ? text.slice(0, -1) : text;
  let timestamp: string | undefined;
  const ts = TIMESTAMP.exec(rest);
  if (ts) {
    timestamp = ts[0].slice(0, -1);
    rest = rest.slice(ts[0].length);
  }
  const space = rest.indexOf(' ');
  const head = space < 0 ? rest : rest.slice(0, space);
  const details: Record<string, string> = {};
  const pairs = head.split(',');
  if (head === '' || !pairs.every((p) => /^[^=\s]+=\S*$/.test(p))) return { timestamp, details, message: rest };
  for (const p of pairs) {
    const eq = p.indexOf('=');
    details[unescape(p.slice(0, eq))] = unescape(p.slice(eq + 1));
  }
  return { timestamp, details, message: space < 0 ? '' : rest.slice(space + 1) };
}

/**
 * An image's container config (the OCI image config's `config`, which is also Docker's `Config` in
 * `GET /images/{name}/json`) as plain values: what `image inspect` shows on both runtimes.
 */

export interface ImageHealthcheck {
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  startPeriodMs?: number;
  startIntervalMs?: number;
  retries?: number;
}

export interface ImageConfigSummary {
  user: string;
  env: string[];
  entrypoint?: string[];
  cmd?: string[];
  workingDir: string;
  /** `80/tcp`, `53/udp`. */
  exposedPorts: string[];
  /** Container paths. */
  volumes: string[];
  labels: Record<string, string>;
  stopSignal?: string;
  healthcheck?: ImageHealthcheck;
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The config's durations are nanoseconds; 0 means "the default" and is left out. */
function healthcheckOf(raw: unknown): ImageHealthcheck | undefined {
  const h = obj(raw);
  const test = strings(h.Test);
  if (!test || test.length === 0) return undefined;
  const ms = (v: unknown): number | undefined => {
    const n = num(v);
    return n ? n / 1e6 : undefined;
  };
  const [intervalMs, timeoutMs, startPeriodMs, startIntervalMs, retries] = [
    ms(h.Interval),
    ms(h.Timeout),
    ms(h.StartPeriod),
    ms(h.StartInterval),
    num(h.Retries),
  ];
  return {
    test,
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(startPeriodMs !== undefined ? { startPeriodMs } : {}),
    ...(startIntervalMs !== undefined ? { startIntervalMs } : {}),
    ...(retries ? { retries } : {}),
  };
}

/** Reads a container config defensively (it comes from an image or a daemon): missing or odd fields become empty. */
export function summarizeImageConfig(raw: unknown): ImageConfigSummary {
  const c = obj(raw);
  const entrypoint = strings(c.Entrypoint);
  const cmd = strings(c.Cmd);
  const stopSignal = str(c.StopSignal);
  const healthcheck = healthcheckOf(c.Healthcheck);
  return {
    user: str(c.User),
    env: strings(c.Env) ?? [],
    ...(entrypoint ? { entrypoint } : {}),
    ...(cmd ? { cmd } : {}),
    workingDir: str(c.WorkingDir),
    exposedPorts: Object.keys(obj(c.ExposedPorts)),
    volumes: Object.keys(obj(c.Volumes)),
    labels: Object.fromEntries(Object.entries(obj(c.Labels)).filter((e): e is [string, string] => typeof e[1] === 'string')),
    ...(stopSignal ? { stopSignal } : {}),
    ...(healthcheck ? { healthcheck } : {}),
  };
}

/** `image inspect`'s output: an image's details in the JSON shape of `docker image inspect`. */
import type { HealthcheckSpec, ImageDetails } from '../../runtime/runtime.js';

const set = (keys: readonly string[]): Record<string, object> | null => (keys.length > 0 ? Object.fromEntries(keys.map((k) => [k, {}])) : null);

/** Docker's durations are nanoseconds; unset ones are left out. */
function healthcheck(h: HealthcheckSpec): Record<string, unknown> {
  const ns = (ms: number | undefined): number | undefined => (ms ? Math.round(ms * 1e6) : undefined);
  const out: Record<string, unknown> = { Test: [...h.test] };
  for (const [k, v] of [
    ['Interval', ns(h.intervalMs)],
    ['Timeout', ns(h.timeoutMs)],
    ['StartPeriod', ns(h.startPeriodMs)],
    ['StartInterval', ns(h.startIntervalMs)],
    ['Retries', h.retries],
  ] as const) {
    if (v) out[k] = v;
  }
  return out;
}

/** One element of `docker image inspect`'s array. */
export function dockerImageInspect(d: ImageDetails): Record<string, unknown> {
  const c = d.config;
  const labels = Object.keys(c.labels).length > 0 ? { ...c.labels } : null;
  return {
    Id: d.id,
    RepoTags: [...d.repoTags],
    RepoDigests: [...d.repoDigests],
    Created: d.created,
    Author: d.author ?? '',
    Config: {
      User: c.user,
      ...(c.exposedPorts.length > 0 ? { ExposedPorts: set(c.exposedPorts) } : {}),
      Env: c.env.length > 0 ? [...c.env] : null,
      Cmd: c.cmd ? [...c.cmd] : null,
      ...(c.healthcheck ? { Healthcheck: healthcheck(c.healthcheck) } : {}),
      Volumes: set(c.volumes),
      WorkingDir: c.workingDir,
      Entrypoint: c.entrypoint ? [...c.entrypoint] : null,
      Labels: labels,
      ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
    },
    Architecture: d.architecture,
    ...(d.variant ? { Variant: d.variant } : {}),
    Os: d.os,
    Size: d.sizeBytes,
    RootFS: { Type: 'layers', Layers: [...d.layers] },
  };
}

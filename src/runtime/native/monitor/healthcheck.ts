/**
 * A container's healthcheck configuration (pure: what the CLI needs without the health monitor's exec).
 */
import type { ContainerSpec, HealthcheckSpec } from '../../runtime.js';
import type { ImageRunConfig } from '../oci/spec-types.js';

/**
 * The effective healthcheck as Docker merges it: compose `none` (or test `NONE`) disables it; without a compose
 * healthcheck the image's applies; otherwise each field compose leaves unset (empty test, 0/absent timings) is taken
 * from the image. Image durations are nanoseconds.
 */
export function healthcheckOf(spec: Pick<ContainerSpec, 'healthcheck'>, image: Pick<ImageRunConfig, 'Healthcheck'>): HealthcheckSpec | undefined {
  if (spec.healthcheck === 'none') return undefined;
  const img = image.Healthcheck ?? undefined;
  const ms = (ns: number | undefined): number | undefined => (ns ? ns / 1e6 : undefined);
  const user = spec.healthcheck;
  const test = user && user.test.length > 0 ? user.test : (img?.Test ?? []);
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  const out: { -readonly [K in keyof HealthcheckSpec]: HealthcheckSpec[K] } = { test: [...test] };
  const pick = (u: number | undefined, i: number | undefined): number | undefined => (u ? u : i);
  const intervalMs = pick(user?.intervalMs, ms(img?.Interval));
  const timeoutMs = pick(user?.timeoutMs, ms(img?.Timeout));
  const startPeriodMs = pick(user?.startPeriodMs, ms(img?.StartPeriod));
  const startIntervalMs = pick(user?.startIntervalMs, ms(img?.StartInterval));
  const retries = pick(user?.retries, img?.Retries);
  if (intervalMs !== undefined) out.intervalMs = intervalMs;
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  if (startPeriodMs !== undefined) out.startPeriodMs = startPeriodMs;
  if (startIntervalMs !== undefined) out.startIntervalMs = startIntervalMs;
  if (retries !== undefined) out.retries = retries;
  return out;
}

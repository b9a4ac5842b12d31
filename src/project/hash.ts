/**
 * The service config hash (label `com.docker.compose.config-hash`): SHA-256 of the canonical service as
 * stable JSON, without the keys that must not trigger a recreate (build, pull_policy, scale,
 * deploy.replicas, depends_on, profiles). Env file content is covered because `environment` already holds it.
 */
import { createHash } from 'node:crypto';
import type { ServiceConfig } from './types.js';

export function serviceConfigHash(svc: ServiceConfig): string {
  const { build: _b, pull_policy: _p, scale: _s, depends_on: _d, profiles: _pr, ...rest } = svc;
  const copy: Record<string, unknown> = { ...rest };
  if (svc.deploy) {
    const { replicas: _r, ...deploy } = svc.deploy;
    copy.deploy = deploy;
  }
  return createHash('sha256').update(stableStringify(copy)).digest('hex');
}

export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The service config hash (label `com.docker.compose.config-hash`): SHA-256 of the canonical service as
 * stable JSON, without the keys that must not trigger a recreate — those docker compose's `ServiceHash` leaves out
 * (build, pull_policy, scale, deploy.replicas, depends_on, profiles) and `develop` (watch rules only steer
 * `watch`, never the container; docker compose does hash it, we do not).
 *
 * Content-aware recreate (issue 17): `inputs`, when given and not empty, maps a short name of each file or inline
 * source the service's containers are made from (its secrets, configs, env_files and label_files, see
 * src/engine/inputs.ts) to that content's digest, and is hashed with the service. Without inputs the hash is the
 * one earlier versions wrote, so containers they made are compared with it (src/engine/inputs.ts, configChange).
 */
import { createHash } from 'node:crypto';
import type { ServiceConfig } from './types.js';

/** Input name → content digest (hex SHA-256). */
export type InputDigests = Readonly<Record<string, string>>;

/** The key the inputs are hashed under: no service key can be spelt so (they are words or `x-…`). */
const INPUTS_KEY = '#inputs';

export function serviceConfigHash(svc: ServiceConfig, inputs?: InputDigests): string {
  const { build: _b, pull_policy: _p, scale: _s, depends_on: _d, profiles: _pr, develop: _dev, ...rest } = svc;
  const copy: Record<string, unknown> = { ...rest };
  if (svc.deploy) {
    const { replicas: _r, ...deploy } = svc.deploy;
    copy.deploy = deploy;
  }
  if (inputs !== undefined && Object.keys(inputs).length > 0) copy[INPUTS_KEY] = inputs;
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

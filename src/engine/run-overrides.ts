/**
 * What `run`'s flags change in the service before its one-off container is made (compose `cmd/compose/run.go`
 * runOptions.apply and getEnvironment, `pkg/compose/run.go`): `-v` volumes appended to the service's (short syntax,
 * bind or named), `--cap-add`/`--cap-drop` (each taking the capability out of the other list), and
 * `--env-from-file` variables for the keys `-e` did not set.
 */
import { homedir } from 'node:os';
import { UsageError } from '../errors.js';
import { parseVolumeSpec } from '../project/canonical-volumes.js';
import { readDotenvFile } from '../project/dotenv.js';
import type { ServiceConfig, ServiceVolumeConfig } from '../project/types.js';

export interface RunOverrides {
  /** `-v SOURCE:TARGET[:MODE]` or `-v TARGET`. */
  readonly volumes?: readonly string[] | undefined;
  readonly capAdd?: readonly string[] | undefined;
  readonly capDrop?: readonly string[] | undefined;
  /** Where relative bind sources are taken from (the project directory). */
  readonly baseDir?: string | undefined;
}

/** The service with `-v`, `--cap-add` and `--cap-drop` applied (the service itself when none is given). */
export function applyRunOverrides(svc: ServiceConfig, o: RunOverrides): ServiceConfig {
  const out: { -readonly [K in keyof ServiceConfig]: ServiceConfig[K] } = { ...svc };
  if (o.volumes && o.volumes.length > 0) {
    const added = o.volumes.map((v) => {
      const parsed = parseVolumeSpec(v, { baseDir: o.baseDir ?? process.cwd(), home: homedir() });
      if (!parsed) throw new UsageError(`invalid --volume value: ${v} (expected [SOURCE:]TARGET[:MODE])`);
      return parsed as unknown as ServiceVolumeConfig;
    });
    // A target given again replaces the service's mount there (the engine refuses two mounts on one path).
    const targets = new Set(added.map((v) => v.target));
    out.volumes = [...(svc.volumes ?? []).filter((v) => !targets.has(v.target)), ...added];
  }
  if (o.capAdd && o.capAdd.length > 0) {
    out.cap_add = [...(out.cap_add ?? []), ...o.capAdd];
    out.cap_drop = (out.cap_drop ?? []).filter((c) => !o.capAdd!.includes(c));
  }
  if (o.capDrop && o.capDrop.length > 0) {
    out.cap_drop = [...(out.cap_drop ?? []), ...o.capDrop];
    out.cap_add = (out.cap_add ?? []).filter((c) => !o.capDrop!.includes(c));
  }
  return out;
}

/**
 * `-e` plus `--env-from-file`: the files' variables (read as env files, `${VAR}` taken from `-e`'s values) for keys
 * `-e` does not set; files later on the command line do not override earlier ones.
 */
export function runEnvironment(env: readonly string[] | undefined, files: readonly string[] | undefined): string[] | undefined {
  if (!files || files.length === 0) return env ? [...env] : undefined;
  const out = [...(env ?? [])];
  const keys = new Set(out.map((e) => e.split('=')[0]!));
  const values = new Map(out.filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const));
  for (const file of files) {
    for (const [k, v] of Object.entries(readDotenvFile(file, (name) => values.get(name)))) {
      if (keys.has(k)) continue;
      keys.add(k);
      out.push(`${k}=${v}`);
    }
  }
  return out;
}

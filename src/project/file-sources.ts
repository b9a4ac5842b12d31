/**
 * `environment:` sources of secrets and configs, resolved when the project is loaded: the value comes from the
 * project's environment (the one interpolation uses: the shell over .env / --env-file, compose-go's precedence),
 * as docker compose reads `project.Environment[NAME]` and never its own process environment at create time.
 * The value rides on the definition as a non-enumerable `environmentValue`, so `config` output (and any JSON of the
 * project) keeps `environment: NAME` and never shows the secret.
 */
import type { FileObjectConfig, Project } from './types.js';

type Defs = Readonly<Record<string, FileObjectConfig>>;

/** `def` with its `environment:` source's value attached (non-enumerable), or `def` itself when there is none. */
export function withEnvironmentValue(def: FileObjectConfig, env: Readonly<Record<string, string | undefined>>): FileObjectConfig {
  if (def.environment === undefined) return def;
  const value = env[def.environment];
  const out = { ...def };
  if (value !== undefined) Object.defineProperty(out, 'environmentValue', { value, enumerable: false, writable: false, configurable: false });
  return out;
}

function resolveDefs(defs: Defs | undefined, env: Readonly<Record<string, string | undefined>>): Defs | undefined {
  if (defs === undefined || !Object.values(defs).some((d) => d.environment !== undefined)) return defs;
  return Object.fromEntries(Object.entries(defs).map(([k, d]) => [k, withEnvironmentValue(d, env)]));
}

/** The project with every secret's and config's `environment:` source resolved from `env` (see the header). */
export function resolveFileSources(project: Project, env: Readonly<Record<string, string | undefined>>): Project {
  const secrets = resolveDefs(project.secrets, env);
  const configs = resolveDefs(project.configs, env);
  if (secrets === project.secrets && configs === project.configs) return project;
  return { ...project, ...(secrets !== undefined ? { secrets } : {}), ...(configs !== undefined ? { configs } : {}) };
}

/** The name docker compose's messages give a secret or config: its `name:`, else its key. */
function displayName(key: string, def: FileObjectConfig): string {
  return def.name ?? key;
}

/**
 * The inline content of a secret or config (`content:` or a resolved `environment:` source), undefined for a file
 * or external one; `onUnset` is called (and should throw) when the `environment:` variable was not set at load.
 */
export function inlineContent(key: string, def: FileObjectConfig, onUnset: (message: string) => never): string | undefined {
  if (def.file !== undefined) return undefined;
  if (def.content !== undefined) return def.content;
  if (def.environment === undefined) return undefined;
  if (def.environmentValue === undefined) onUnset(`environment variable "${def.environment}" required by file "${displayName(key, def)}" is not set`);
  return def.environmentValue;
}

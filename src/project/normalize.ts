/**
 * Normalisation: the implicit parts of a compose model written out, as `docker compose config` prints it unless
 * `--no-normalize` is given. Follows compose-go's `loader/normalize.go` (`Normalize`, run by the loader unless
 * SkipNormalization is set):
 *
 * - a service with neither `networks:` (or an empty one) nor `network_mode:` (nor `provider:`) is on the `default`
 *   network (`networks: {default: null}`), and the project then has a top-level `default` network;
 * - networks, volumes, secrets and configs without `name:` are named: `<project>_<key>`, or `<key>` when external;
 * - `build:` has `context: .` (already a path in the canonical model) and `dockerfile: Dockerfile` unless it is
 *   inline; `build.args` without a value take the project environment's value, and are dropped without one;
 * - `links:`, `network_mode`/`ipc`/`pid`/`uts`/`cgroup: service:x` and `volumes_from: x` are dependencies
 *   (`depends_on`, condition service_started; `restart: true` except for volumes_from, where it is false and so
 *   left out as compose-go's omitempty does) unless already declared;
 * - `pre_start` hooks without an image run the service's image.
 *
 * The rest of compose-go's Normalize (pull_policy if_not_present → missing, volume targets cleaned, environment
 * keys without a value resolved) the loader already does for every model (./canonical*.ts, ./finalize.ts).
 */
import type { Project } from './types.js';

type Obj = Record<string, unknown>;

const NAMESPACES = ['network_mode', 'ipc', 'pid', 'uts', 'cgroup'] as const;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The project with its implicit defaults made explicit; `env` resolves `build.args` keys without a value. */
export function normalizeProject(project: Project, env: Readonly<Record<string, string>> = {}): Project {
  const out: Obj = { ...(project as unknown as Obj) };
  const services: Obj = {};
  let usesDefault = false;
  for (const [name, raw] of Object.entries(project.services)) {
    const svc: Obj = { ...(raw as unknown as Obj) };
    if (svc.provider === undefined && svc.network_mode === undefined) {
      if (!isObj(svc.networks) || Object.keys(svc.networks).length === 0) {
        svc.networks = { default: null };
        usesDefault = true;
      } else if ('default' in svc.networks) usesDefault = true;
    }
    if (isObj(svc.build)) svc.build = normalizeBuild(svc.build, env);
    const deps = implicitDependencies(svc);
    if (Object.keys(deps).length > 0) svc.depends_on = { ...deps, ...(isObj(svc.depends_on) ? svc.depends_on : {}) };
    if (Array.isArray(svc.pre_start) && typeof svc.image === 'string' && svc.image !== '') {
      const image = svc.image;
      svc.pre_start = svc.pre_start.map((h: unknown) => (isObj(h) && h.image === undefined ? { ...h, image } : h));
    }
    services[name] = svc;
  }
  out.services = services;
  const networks: Obj = isObj(project.networks) ? { ...project.networks } : {};
  if (usesDefault && !('default' in networks)) networks.default = { ipam: {} };
  if (Object.keys(networks).length > 0) out.networks = networks;
  for (const section of ['networks', 'volumes', 'configs', 'secrets'] as const) {
    const resources = out[section];
    if (!isObj(resources)) continue;
    const named: Obj = {};
    for (const [key, r] of Object.entries(resources)) {
      const res: Obj = isObj(r) ? { ...r } : {};
      if (res.name === undefined || res.name === null) res.name = isTrue(res.external) ? key : `${project.name}_${key}`;
      named[key] = res;
    }
    out[section] = named;
  }
  return out as unknown as Project;
}

function normalizeBuild(build: Obj, env: Readonly<Record<string, string>>): Obj {
  const out: Obj = { ...build };
  if (out.context === undefined || out.context === null) out.context = '.';
  if ((out.dockerfile === undefined || out.dockerfile === null) && (out.dockerfile_inline === undefined || out.dockerfile_inline === null))
    out.dockerfile = 'Dockerfile';
  if (isObj(out.args)) {
    const args: Obj = {};
    for (const [k, v] of Object.entries(out.args)) {
      if (v !== null && v !== undefined) args[k] = v;
      else if (env[k] !== undefined) args[k] = env[k];
    }
    out.args = args;
  }
  return out;
}

/** What links, `service:` namespaces and volumes_from make a service depend on (compose-go's order of precedence). */
function implicitDependencies(svc: Obj): Obj {
  const deps: Obj = {};
  const add = (name: string, restart: boolean): void => {
    if (name !== '' && !(name in deps)) deps[name] = { condition: 'service_started', required: true, ...(restart ? { restart } : {}) };
  };
  for (const link of Array.isArray(svc.links) ? svc.links : []) {
    const parts = String(link).split(':');
    add(parts.length === 2 ? parts[0]! : String(link), true);
  }
  for (const ns of NAMESPACES) {
    const ref = svc[ns];
    if (typeof ref === 'string' && ref.startsWith('service:')) add(ref.slice('service:'.length), true);
  }
  for (const v of Array.isArray(svc.volumes_from) ? svc.volumes_from : []) {
    const spec = String(v);
    if (!spec.startsWith('container:')) add(spec.split(':')[0]!, false);
  }
  return deps;
}

/** compose-go's isTrue: strconv.ParseBool of the value's text. */
function isTrue(v: unknown): boolean {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(String(v));
}

/**
 * The project without the services' `env_file` and `label_file` once they are merged into `environment` and
 * `labels`, as docker compose's `config` renders it (compose-go's WithDiscardEnvFile: env files are left in only
 * with --no-env-resolution, label files never).
 */
export function withoutEnvFiles(project: Project, drop: { readonly envFiles: boolean; readonly labelFiles: boolean }): Project {
  const services: Obj = {};
  for (const [name, raw] of Object.entries(project.services)) {
    const svc: Obj = { ...(raw as unknown as Obj) };
    if (drop.envFiles) delete svc.env_file;
    if (drop.labelFiles) delete svc.label_file;
    services[name] = svc;
  }
  return { ...project, services } as unknown as Project;
}

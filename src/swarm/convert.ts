/**
 * A loaded compose project → the Docker Swarm objects of its stack: what `docker stack deploy` would create
 * (docker/cli cli/compose/convert), from the project's own loader (interpolation, .env, profiles, include,
 * extends, merges already applied), with secrets and configs named by content and the warnings of every key a swarm
 * cannot honour. Pure: no engine calls; only secret and config files are read (through `opts.readFile`).
 */
import { readFileSync } from 'node:fs';
import type { Project, ServiceConfig } from '../project/types.js';
import type { ServiceSpec } from './api-types.js';
import type { SwarmWarning, Warn } from './convert-names.js';
import {
  convertConfigs,
  convertNetworks,
  convertSecrets,
  convertVolumes,
  type ReadFile,
  type StackConfig,
  type StackNetwork,
  type StackSecret,
  type StackVolume,
} from './convert-objects.js';
import { convertService } from './convert-service.js';
import { warnUnsupported } from './convert-unsupported.js';

export type { StackConfig, StackNetwork, StackSecret, StackVolume, ReadFile } from './convert-objects.js';
export type { SwarmWarning } from './convert-names.js';

export interface StackOptions {
  /** Service → the image pinned by digest (`repo@sha256:…`) the tasks run; the compose image stays in the stack label. */
  readonly pinnedImages?: Readonly<Record<string, string>>;
  /** Service → replicas (`up --scale`), over deploy.replicas and scale. */
  readonly scale?: Readonly<Record<string, number>>;
  /** Reads secret and config files (default: fs.readFileSync). */
  readonly readFile?: ReadFile;
}

export interface StackService {
  /** The compose service name. */
  readonly key: string;
  /** `<project>_<service>` */
  readonly name: string;
  readonly spec: ServiceSpec;
  /** The compose services it depends on (the engine deploys in this order); sorted. */
  readonly dependsOn: readonly string[];
}

export interface Stack {
  /** The project name: the stack's namespace. */
  readonly namespace: string;
  /** Sorted by compose name. */
  readonly services: readonly StackService[];
  readonly networks: readonly StackNetwork[];
  readonly secrets: readonly StackSecret[];
  readonly configs: readonly StackConfig[];
  readonly volumes: readonly StackVolume[];
  readonly warnings: readonly SwarmWarning[];
}

/** The stack `project` deploys as. Throws SwarmConvertError (TSC_SWARM_CONVERT) or SwarmSourceError (TSC_SWARM_SOURCE). */
export function stackOf(project: Project, opts: StackOptions = {}): Stack {
  const warnings: SwarmWarning[] = [];
  const warn: Warn = (service, key, message) => {
    if (warnings.some((w) => w.service === service && w.key === key && w.message === message)) return;
    warnings.push(service === undefined ? { key, message } : { service, key, message });
  };
  const readFile = opts.readFile ?? readFileSync;
  const networks = convertNetworks(project, warn);
  const secrets = convertSecrets(project, readFile);
  const configs = convertConfigs(project, readFile);
  const volumes = convertVolumes(project);
  const ctx = {
    project,
    secretNames: new Map(secrets.map((s) => [s.key, s.name])),
    configNames: new Map(configs.map((c) => [c.key, c.name])),
    pinnedImages: opts.pinnedImages,
    scale: opts.scale,
    warn,
  };
  const services = Object.keys(project.services)
    .sort()
    .map((key): StackService => {
      const svc: ServiceConfig = project.services[key]!;
      warnUnsupported(key, svc, warn);
      const spec = convertService(ctx, key, svc);
      return { key, name: spec.Name, spec, dependsOn: Object.keys(svc.depends_on ?? {}).sort() };
    });
  return { namespace: project.name, services, networks, secrets, configs, volumes, warnings };
}

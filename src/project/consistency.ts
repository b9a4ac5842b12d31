/**
 * Consistency: does the merged project hang together? Undefined networks, volumes, secrets, configs and
 * services (depends_on, links, volumes_from, `service:` modes), image-or-build, mutually exclusive keys,
 * scale and resource mismatches, and dependency cycles (reported as their path, always an error).
 */
import { ConsistencyError, DependencyCycleError, type SourcePosition } from '../errors.js';
import { findCycle } from './graph.js';
import { dependencyGraph, serviceDependencies } from './dependencies.js';
import type { Project, ServiceConfig } from './types.js';

/**
 * 'error': every finding fails the load (`up`, `config -q`). 'warn' (`config`) and 'off' (docker compose's
 * `--no-consistency`): findings are warnings, except dependency cycles. docker compose's `config` refuses an
 * undefined network; tscompose's `config` warns, because the conformance corpus (compose-go's full example, which
 * has one) must load with plain `config` — `config -q` and every command that acts refuse it.
 */
export type ConsistencyMode = 'error' | 'warn' | 'off';

export interface ConsistencyOptions {
  readonly mode: ConsistencyMode;
  readonly warn: (message: string) => void;
  readonly disabled: Readonly<Record<string, ServiceConfig>>;
  readonly locate: (path: readonly (string | number)[]) => SourcePosition;
}

export function checkConsistency(project: Project, opts: ConsistencyOptions): void {
  /** `always`: an error in mode 'warn' too (docker compose's `config` refuses the project). */
  const report = (detail: string, path: (string | number)[], always = false): void => {
    const pos = opts.locate(path);
    if (opts.mode === 'off' || (opts.mode === 'warn' && !always))
      opts.warn(`${pos.line !== undefined ? `${pos.file}:${pos.line}:${pos.col}: ` : ''}${detail}`);
    else throw new ConsistencyError(detail, pos);
  };
  const services = project.services;
  const networks = project.networks ?? {};
  const volumes = project.volumes ?? {};
  const secrets = project.secrets ?? {};
  const configs = project.configs ?? {};

  for (const [name, svc] of Object.entries(services)) {
    const at = (...p: (string | number)[]): (string | number)[] => ['services', name, ...p];
    if (svc.image === undefined && svc.build === undefined && svc.provider === undefined)
      report(`service ${JSON.stringify(name)} has neither an image nor a build context specified`, at());
    if (svc.build?.dockerfile !== undefined && svc.build.dockerfile_inline !== undefined)
      report(`service ${JSON.stringify(name)} declares mutually exclusive dockerfile and dockerfile_inline`, at('build'));
    if (svc.network_mode !== undefined && svc.networks !== undefined && Object.keys(svc.networks).length > 0)
      report(`service ${JSON.stringify(name)} declares mutually exclusive \`network_mode\` and \`networks\``, at('network_mode'));
    for (const net of Object.keys(svc.networks ?? {}))
      if (net !== 'default' && !(net in networks))
        report(`service ${JSON.stringify(name)} refers to undefined network ${net}: invalid compose project`, at('networks', net));
    (svc.volumes ?? []).forEach((v, i) => {
      if (v.type === 'volume' && v.source !== undefined && v.source !== '' && !(v.source in volumes))
        report(`service ${JSON.stringify(name)} refers to undefined volume ${v.source}: invalid compose project`, at('volumes', i));
    });
    const targets = new Map<string, number>();
    (svc.volumes ?? []).forEach((v, i) => {
      if (targets.has(v.target)) report(`service ${JSON.stringify(name)} has duplicate mount target ${v.target}`, at('volumes', i));
      targets.set(v.target, i);
    });
    (svc.secrets ?? []).forEach((s, i) => {
      if (!(s.source in secrets))
        report(`service ${JSON.stringify(name)} refers to undefined secret ${s.source}: invalid compose project`, at('secrets', i));
    });
    (svc.build?.secrets ?? []).forEach((s, i) => {
      if (!(s.source in secrets))
        report(`service ${JSON.stringify(name)} refers to undefined build secret ${s.source}: invalid compose project`, at('build', 'secrets', i));
    });
    (svc.configs ?? []).forEach((c, i) => {
      if (!(c.source in configs))
        report(`service ${JSON.stringify(name)} refers to undefined config ${c.source}: invalid compose project`, at('configs', i));
    });
    const test = svc.healthcheck?.test;
    if (test && test.length > 0 && !['NONE', 'CMD', 'CMD-SHELL'].includes(test[0]!))
      report(
        `service ${JSON.stringify(name)}: healthcheck.test must start with NONE, CMD or CMD-SHELL, got ${JSON.stringify(test[0])}`,
        at('healthcheck', 'test'),
      );

    const replicas = svc.deploy?.replicas;
    if (svc.scale !== undefined && svc.scale < 0) report(`service ${JSON.stringify(name)}: scale must not be negative`, at('scale'));
    if (svc.scale !== undefined && replicas !== undefined && svc.scale !== replicas)
      report(`service ${JSON.stringify(name)}: scale (${svc.scale}) and deploy.replicas (${replicas}) differ`, at('scale'));
    const count = svc.scale ?? replicas ?? 1;
    if (svc.container_name !== undefined && count > 1)
      report(
        `service ${JSON.stringify(name)}: container_name ${JSON.stringify(svc.container_name)} cannot be used with ${count} replicas (container names must be unique)`,
        at('container_name'),
      );
    const limits = svc.deploy?.resources?.limits;
    if (limits) {
      if (svc.cpus !== undefined && limits.cpus !== undefined && svc.cpus !== limits.cpus)
        report(`service ${JSON.stringify(name)}: cpus and deploy.resources.limits.cpus differ`, at('cpus'));
      if (svc.mem_limit !== undefined && limits.memory !== undefined && svc.mem_limit !== limits.memory)
        report(`service ${JSON.stringify(name)}: mem_limit and deploy.resources.limits.memory differ`, at('mem_limit'));
      if (svc.pids_limit !== undefined && limits.pids !== undefined && svc.pids_limit !== limits.pids)
        report(`service ${JSON.stringify(name)}: pids_limit and deploy.resources.limits.pids differ`, at('pids_limit'));
    }

    for (const [dep, d] of serviceDependencies(svc)) {
      if (dep in services) continue;
      const where = d.via === 'depends_on' ? at('depends_on', dep) : at(d.via);
      const off = opts.disabled[dep];
      if (off) {
        if (d.required)
          report(
            `service ${JSON.stringify(dep)} is required by ${JSON.stringify(name)} but is disabled. Can be enabled by profiles [${(off.profiles ?? []).join(', ')}]`,
            where,
          );
      } else if (!d.required) {
        opts.warn(`service ${JSON.stringify(name)} depends on undefined service ${JSON.stringify(dep)} (not required: ignored)`);
      } else if (d.via === 'depends_on') {
        report(`service ${JSON.stringify(name)} depends on undefined service ${JSON.stringify(dep)}: invalid compose project`, where);
      } else {
        report(`service ${JSON.stringify(name)} refers to undefined service ${JSON.stringify(dep)} in ${d.via}: invalid compose project`, where);
      }
    }
  }

  for (const [kind, defs] of [
    ['network', networks],
    ['volume', volumes],
  ] as const) {
    for (const [name, def] of Object.entries(defs as Record<string, { external?: boolean; driver?: string }>)) {
      if (def.external && def.driver !== undefined)
        report(`conflicting parameters "external" and "driver" specified for ${kind} ${JSON.stringify(name)}`, [`${kind}s`, name]);
    }
  }
  for (const [kind, defs] of [
    ['secret', secrets],
    ['config', configs],
  ] as const) {
    for (const [name, def] of Object.entries(defs)) {
      const sources = ['file', 'environment', 'content', 'external'].filter(
        (k) => (def as Record<string, unknown>)[k] !== undefined && (def as Record<string, unknown>)[k] !== false,
      );
      if (sources.length === 0 && !(kind === 'secret' && def.driver !== undefined))
        report(`${kind} ${JSON.stringify(name)} must have one of: file, environment${kind === 'config' ? ', content' : ''}, external`, [
          `${kind}s`,
          name,
        ]);
    }
  }

  // Cycles make any order impossible: always an error.
  const cycle = findCycle(dependencyGraph(services));
  if (cycle) throw new DependencyCycleError(cycle);
}

/**
 * The image config a Dockerfile stage writes, instruction by instruction, as BuildKit's Dockerfile frontend
 * (frontend/dockerfile/dockerfile2llb/convert.go: dispatchCmd, dispatchEntrypoint, dispatchExpose, dispatchHealthcheck,
 * …, and commitToHistory). Pure: the builder (builder.ts) feeds it the expanded instructions of stages.ts.
 * - a stage's config starts from its base image's (or base stage's) `config`, with `OnBuild` cleared (the triggers
 *   ran in this stage) and `Env` as stages.ts computed it (base Env, default PATH, ENV);
 * - CMD/ENTRYPOINT in shell form run through the stage's SHELL; ENTRYPOINT clears a `Cmd` inherited from the base
 *   (not one this stage set), as BuildKit's `cmdSet`;
 * - EXPOSE `80`, `80/udp`, `8000-8002` → `ExposedPorts` keys `80/tcp`, …; VOLUME/LABEL add; USER, STOPSIGNAL,
 *   SHELL, WORKDIR (joined to the previous one) replace; HEALTHCHECK replaces (durations in ns, zero ones left out);
 *   ONBUILD appends its trigger text; MAINTAINER sets the image's author.
 * - history: one entry per instruction that changes the config or the filesystem (ARG: none), `created_by` as
 *   BuildKit writes it (`RUN /bin/sh -c …`, `COPY . . `, `ENV A=b`, `EXPOSE map[80/tcp:{}]`, …).
 */
import path from 'node:path';
import type { HealthcheckConfig, OciContainerConfig } from '../../image/types.js';
import type { Command, Instruction } from '../dockerfile/instructions.js';

export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** A stage's config while it is built. */
export interface ConfigState {
  config: OciContainerConfig;
  /** Whether this stage set CMD (then ENTRYPOINT keeps it). */
  cmdSet: boolean;
  author?: string | undefined;
}

/** The config a stage starts from: its base's, `OnBuild` cleared, `Env` as given. */
export function stageConfig(base: OciContainerConfig | undefined, env: readonly string[]): ConfigState {
  const config: OciContainerConfig = structuredClone(base ?? {});
  delete config.OnBuild;
  config.Env = [...env];
  return { config, cmdSet: false };
}

/** The shell a stage's shell-form commands run with. */
export function shellOf(config: OciContainerConfig): readonly string[] {
  return config.Shell && config.Shell.length > 0 ? config.Shell : DEFAULT_SHELL;
}

function argv(cmd: Command, shell: readonly string[]): string[] {
  return cmd.form === 'exec' ? [...cmd.args] : [...shell, cmd.command];
}

/** The working directory after `WORKDIR value` (relative values join the current one). */
export function workdirAfter(current: string | undefined, value: string): string {
  return path.posix.resolve('/', current || '/', value);
}

/** `80` → `80/tcp`; `8000-8002/udp` → three keys. Throws on what is not a port. */
export function exposedPorts(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const [range = '', proto = 'tcp'] = v.split('/');
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (!m) throw new Error(`invalid containerPort: ${range}`);
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (end < start || end > 65535) throw new Error(`invalid range specified for container: ${range}`);
    for (let p = start; p <= end; p++) out.push(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

/** Applies one (expanded) instruction's effect on the config; a no-op for RUN/COPY/ADD/ARG/FROM. */
export function applyToConfig(state: ConfigState, inst: Instruction, env: readonly string[]): void {
  const c = state.config;
  switch (inst.kind) {
    case 'ENV':
      c.Env = [...env];
      return;
    case 'LABEL':
      c.Labels = { ...(c.Labels ?? {}) };
      for (const p of inst.pairs) c.Labels[p.key] = p.value;
      return;
    case 'WORKDIR':
      c.WorkingDir = workdirAfter(c.WorkingDir, inst.value);
      return;
    case 'USER':
      c.User = inst.value;
      return;
    case 'STOPSIGNAL':
      c.StopSignal = inst.value;
      return;
    case 'MAINTAINER':
      state.author = inst.value;
      return;
    case 'CMD':
      c.Cmd = argv(inst.command, shellOf(c));
      state.cmdSet = true;
      return;
    case 'ENTRYPOINT':
      c.Entrypoint = argv(inst.command, shellOf(c));
      if (!state.cmdSet) c.Cmd = null;
      return;
    case 'EXPOSE':
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of exposedPorts(inst.values)) c.ExposedPorts[p] = {};
      return;
    case 'VOLUME':
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of inst.values) c.Volumes[v] = {};
      return;
    case 'SHELL':
      c.Shell = [...inst.shell];
      return;
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), inst.expression];
      return;
    case 'HEALTHCHECK': {
      const h: HealthcheckConfig = { Test: [...inst.test] };
      if (inst.interval) h.Interval = inst.interval;
      if (inst.timeout) h.Timeout = inst.timeout;
      if (inst.startPeriod) h.StartPeriod = inst.startPeriod;
      if (inst.startInterval) h.StartInterval = inst.startInterval;
      if (inst.retries) h.Retries = inst.retries;
      c.Healthcheck = h;
      return;
    }
    default:
      return;
  }
}

/** The history `created_by` of an instruction, as BuildKit writes it; undefined: no history entry (ARG, FROM). */
export function createdBy(inst: Instruction, shell: readonly string[]): string | undefined {
  switch (inst.kind) {
    case 'FROM':
    case 'ARG':
      return undefined;
    case 'RUN': {
      const args = inst.command.form === 'exec' ? inst.command.args : [...shell, inst.command.command];
      return `RUN ${args.join(' ')}`;
    }
    case 'COPY':
    case 'ADD': {
      const flags = [
        inst.from ? `--from=${inst.from} ` : '',
        inst.chown ? `--chown=${inst.chown} ` : '',
        inst.chmod ? `--chmod=${inst.chmod} ` : '',
      ].join('');
      return `${inst.kind} ${flags}${[...inst.sources, ...inst.heredocSources.map((h) => h.path)].join(' ')} ${inst.dest}`;
    }
    case 'ENV':
    case 'LABEL':
      return `${inst.kind} ${inst.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`;
    case 'CMD':
    case 'ENTRYPOINT':
      return `${inst.kind} ${JSON.stringify(inst.command.form === 'exec' ? inst.command.args : [...shell, inst.command.command])}`;
    case 'EXPOSE':
      return `EXPOSE map[${exposedPorts(inst.values)
        .map((p) => `${p}:{}`)
        .join(' ')}]`;
    case 'VOLUME':
      return `VOLUME ${JSON.stringify(inst.values)}`;
    case 'SHELL':
      return `SHELL ${JSON.stringify(inst.shell)}`;
    case 'HEALTHCHECK':
      return `HEALTHCHECK &{${JSON.stringify(inst.test)}}`;
    case 'ONBUILD':
      return `ONBUILD ${inst.expression}`;
    default:
      return `${inst.kind} ${inst.value}`;
  }
}

/** Whether an instruction works on the filesystem (a progress step and maybe a layer). */
export function isFilesystemStep(inst: Instruction): boolean {
  return inst.kind === 'RUN' || inst.kind === 'COPY' || inst.kind === 'ADD' || inst.kind === 'WORKDIR';
}

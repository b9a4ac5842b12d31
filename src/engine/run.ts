/**
 * `run` (a one-off container `project-service-run-<slug>`) and `exec` (a process in a running container).
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { UsageError } from '../errors.js';
import { serviceDependencies } from '../project/dependencies.js';
import { serviceConfigHash } from '../project/hash.js';
import { InvalidPortError, parsePortSpec } from '../project/ports.js';
import type { Project, ServiceConfig } from '../project/types.js';
import type { AttachSession, ContainerSpec, ExecSession, LogLine, PortBinding } from '../runtime/runtime.js';
import { serviceContainer } from './containers.js';
import { containerSpec, portBindings } from './container-spec.js';
import { done, working, type EngineContext } from './events.js';
import { execute } from './execute.js';
import { ensureImages, type BuildPolicy, type PullPolicy } from './images.js';
import { LABEL_CONFIG_HASH, LABEL_ONEOFF, LABEL_SERVICE, LABEL_SLUG, oneoffContainerName, projectLabels, type ProjectOrigin } from './labels.js';
import { observe } from './observe.js';
import { Plan } from './plan.js';
import { executeReporter } from './progress.js';
import { reconcile } from './reconcile.js';
import { up } from './up.js';
import { hookExec } from './plan-hooks.js';
import { keySupportWarnings } from './key-support.js';
import { runHook } from './run-hook.js';
import { applyRunOverrides, type RunOverrides } from './run-overrides.js';

export interface RunOptions extends RunOverrides {
  /** Replaces the service's command. */
  readonly command?: readonly string[] | undefined;
  readonly entrypoint?: readonly string[] | undefined;
  /** `-e KEY=value` (or `KEY` to take it from `hostEnv`). */
  readonly env?: readonly string[] | undefined;
  readonly hostEnv?: Readonly<Record<string, string | undefined>> | undefined;
  readonly workdir?: string | undefined;
  readonly user?: string | undefined;
  readonly name?: string | undefined;
  readonly labels?: readonly string[] | undefined;
  /** Allocate a TTY (not `-T` and stdin is a terminal). */
  readonly tty?: boolean | undefined;
  /** `-i`: keep the container's stdin open; attached runs forward `stdio.stdin` to it, closing it at its end. */
  readonly interactive?: boolean | undefined;
  /** Attached runs: the container's streams, attached before its start (output as written, not as lines). */
  readonly stdio?: RunStdio | undefined;
  readonly rm?: boolean | undefined;
  readonly detach?: boolean | undefined;
  readonly noDeps?: boolean | undefined;
  readonly servicePorts?: boolean | undefined;
  /** `-p`: extra published ports (`8080:80`). */
  readonly publish?: readonly string[] | undefined;
  readonly useAliases?: boolean | undefined;
  readonly build?: BuildPolicy | undefined;
  readonly pull?: PullPolicy | undefined;
  readonly quietPull?: boolean | undefined;
  readonly removeOrphans?: boolean | undefined;
  readonly origin?: ProjectOrigin | undefined;
  /** Receives the container's output (attached runs). */
  readonly onOutput?: ((line: LogLine) => void) | undefined;
  /** Random by default. */
  readonly slug?: string | undefined;
  readonly pollIntervalMs?: number | undefined;
}

/** The terminal side of an attached run (or attach): where the container's streams go. */
export interface RunStdio {
  /** Forwarded to the container's stdin (with `interactive`). */
  readonly stdin?: Readable | undefined;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Given the session once attached (a terminal's size goes to `resize`). */
  readonly onAttached?: ((session: AttachSession) => void) | undefined;
  /** Resolves when the user detaches (the detach keys): the container keeps running. */
  readonly detach?: Promise<void> | undefined;
  /** The detach keys as the user gave them (`ctrl-p,ctrl-q`), for a backend that matches them itself. */
  readonly detachKeys?: string | undefined;
}

export interface RunResult {
  readonly id: string;
  readonly name: string;
  /** Absent for detached runs (`-d`, or detached with the detach keys: then `detached`). */
  readonly exitCode?: number;
  readonly detached?: boolean;
}

/** Copies the session's output to `stdio` until it ends, or until the user detaches (then true). */
export async function pumpSession(session: AttachSession, stdio: RunStdio): Promise<boolean> {
  session.stdout.pipe(stdio.stdout, { end: false });
  session.stderr.pipe(stdio.stderr, { end: false });
  const ended = Promise.all([finished(session.stdout), finished(session.stderr)]).then(
    () => false,
    () => false,
  );
  const detached = stdio.detach?.then(() => true);
  const result = await (detached ? Promise.race([ended, detached]) : ended);
  if (result) session.close();
  session.stdout.unpipe(stdio.stdout);
  session.stderr.unpipe(stdio.stderr);
  return result;
}

/** `-p`/`--publish`: compose's short port syntax (one parser, src/project/ports.ts); a bad value is a usage error. */
function parsePublish(p: string): PortBinding[] {
  try {
    return portBindings(parsePortSpec(p));
  } catch (e) {
    if (e instanceof InvalidPortError) throw new UsageError(`--publish: ${e.message}`, { hint: e.hint });
    throw e;
  }
}

/** The networks and volumes `service` needs, as their own plan (nothing about containers). */
function resourcesPlan(full: Plan): Plan {
  const plan = new Plan();
  const ids = new Map<number, number>();
  for (const n of full.nodes) {
    if (n.resource.kind !== 'network' && n.resource.kind !== 'volume') continue;
    ids.set(
      n.id,
      plan.add(
        n.resource,
        n.op,
        n.cause,
        n.deps.map((d) => ids.get(d)).filter((x): x is number => x !== undefined),
      ),
    );
  }
  return plan;
}

export function runSpec(project: Project, service: string, svc: ServiceConfig, name: string, slug: string, options: RunOptions): ContainerSpec {
  const labels: Record<string, string> = {
    ...svc.labels,
    ...projectLabels(project, options.origin),
    [LABEL_SERVICE]: service,
    [LABEL_ONEOFF]: 'True',
    [LABEL_SLUG]: slug,
    [LABEL_CONFIG_HASH]: serviceConfigHash(svc),
  };
  for (const l of options.labels ?? []) {
    const i = l.indexOf('=');
    labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  const base = containerSpec({ project, service, svc: { ...svc, restart: 'no' }, name, labels });
  const spec: { -readonly [K in keyof ContainerSpec]: ContainerSpec[K] } = { ...base };
  if (options.command && options.command.length > 0) spec.command = options.command;
  if (options.entrypoint) {
    spec.entrypoint = options.entrypoint;
    if (!options.command || options.command.length === 0) delete spec.command;
  }
  if (options.env && options.env.length > 0) {
    const env = new Map((spec.env ?? []).map((e) => [e.split('=')[0]!, e] as const));
    for (const e of options.env) {
      const i = e.indexOf('=');
      if (i >= 0) env.set(e.slice(0, i), e);
      else {
        const v = options.hostEnv?.[e];
        if (v !== undefined) env.set(e, `${e}=${v}`);
      }
    }
    spec.env = [...env.values()];
  }
  if (options.workdir !== undefined) spec.workingDir = options.workdir;
  if (options.user !== undefined) spec.user = options.user;
  spec.tty = options.tty ?? false;
  // compose: `service.StdinOpen = opts.Interactive`; StdinOnce when attached, so the end of the input ends it.
  spec.openStdin = options.interactive ?? false;
  if (spec.openStdin) spec.stdinOnce = !options.detach;
  else delete spec.stdinOnce;
  const ports = [...(options.servicePorts ? (base.ports ?? []) : []), ...(options.publish ?? []).flatMap(parsePublish)];
  if (ports.length > 0) spec.ports = ports;
  else delete spec.ports;
  if (spec.networks && !options.useAliases) spec.networks = spec.networks.map((ep) => ({ ...ep, aliases: [] }));
  delete spec.restart;
  return spec;
}

export async function run(ctx: EngineContext, project: Project, service: string, options: RunOptions = {}): Promise<RunResult> {
  const declared = project.services[service];
  if (!declared) throw new UsageError(`no such service: ${service}`);
  // `-v`, `--cap-add`, `--cap-drop`: the one-off container's service (its named volumes made with the others').
  const svc = applyRunOverrides(declared, options);
  if (svc !== declared) project = { ...project, services: { ...project.services, [service]: svc } };
  const deps = [...serviceDependencies(svc).keys()].filter((d) => project.services[d]);
  if (!options.noDeps && deps.length > 0) {
    await up(ctx, project, {
      services: deps,
      build: options.build,
      pull: options.pull,
      quietPull: options.quietPull,
      removeOrphans: options.removeOrphans,
      origin: options.origin,
      pollIntervalMs: options.pollIntervalMs,
    });
  }
  for (const w of keySupportWarnings(ctx.runtime.kind, project, [service]))
    ctx.events.emit({ resource: `Project ${project.name}`, status: 'warning', text: 'Warning', details: w });
  await ensureImages(ctx, project, [service], { build: options.build, pull: options.pull, quiet: options.quietPull });
  const observed = await observe(ctx.runtime, project, { signal: ctx.signal });
  const resources = resourcesPlan(
    reconcile(project, observed, { services: [service], noDeps: true, noRecreate: true, noStart: true, origin: options.origin }),
  );
  await execute(ctx.runtime, resources, { signal: ctx.signal, onEvent: executeReporter(ctx.events) });

  const slug = options.slug ?? randomBytes(32).toString('hex');
  const name = options.name ?? oneoffContainerName(project.name, service, slug);
  const spec = runSpec(project, service, svc, name, slug, options);
  const resource = `Container ${name}`;
  ctx.events.emit(working(resource, 'Creating'));
  const { id } = await ctx.runtime.createContainer(spec, { signal: ctx.signal });
  ctx.events.emit(done(resource, 'Created'));
  const stdio = options.detach ? undefined : options.stdio;
  // Attached before the start, as `docker run`: no output is missed and the stdin is there from the first read.
  const session = stdio
    ? await ctx.runtime.attachContainer(id, {
        signal: ctx.signal,
        detachKeys: stdio.detachKeys,
        ...(options.interactive && stdio.stdin ? { stdin: stdio.stdin } : {}),
      })
    : undefined;
  try {
    await ctx.runtime.startContainer(id, { signal: ctx.signal });
  } catch (e) {
    session?.close();
    throw e;
  }
  // compose runs the service's post_start hooks in a one-off container too, once it started.
  for (const hook of svc.post_start ?? []) {
    ctx.events.emit(working(resource, 'Running post_start hook'));
    await runHook(ctx.runtime, { container: id, service, phase: 'post_start', exec: hookExec(hook, svc) }, { signal: ctx.signal });
  }
  if (options.detach) return { id, name };
  if (session && stdio) {
    stdio.onAttached?.(session);
    if (await pumpSession(session, stdio)) return { id, name, detached: true };
  }

  const output = (async () => {
    if (session || !options.onOutput) return;
    try {
      for await (const line of ctx.runtime.containerLogs(id, { follow: true, signal: ctx.signal })) options.onOutput(line);
    } catch {
      // removed meanwhile
    }
  })();
  let exitCode: number;
  try {
    exitCode = await ctx.runtime.waitContainer(id, { signal: ctx.signal });
    await output;
  } finally {
    if (options.rm) {
      try {
        await ctx.runtime.removeContainer(id, { force: true, volumes: true });
      } catch {
        // already gone
      }
    }
  }
  return { id, name, exitCode };
}

export interface ExecOptions {
  readonly index?: number | undefined;
  readonly env?: readonly string[] | undefined;
  readonly user?: string | undefined;
  readonly workdir?: string | undefined;
  readonly tty?: boolean | undefined;
  readonly privileged?: boolean | undefined;
  readonly stdin?: Readable | undefined;
  /** `-d`: left running on its own; the session's wait() resolves once it runs (ExecSpec.detach). */
  readonly detach?: boolean | undefined;
}

/** `exec`: starts `cmd` in container `index` of `service`; the caller reads the session and waits for its code. */
export async function execIn(
  ctx: EngineContext,
  project: string,
  service: string,
  cmd: readonly string[],
  options: ExecOptions = {},
): Promise<ExecSession> {
  if (cmd.length === 0) throw new UsageError('exec needs a command');
  const c = await serviceContainer(ctx.runtime, project, service, options.index ?? 1, ctx.signal);
  return ctx.runtime.execStream(
    c.id,
    {
      cmd,
      ...(options.env && options.env.length > 0 ? { env: options.env } : {}),
      ...(options.user === undefined ? {} : { user: options.user }),
      ...(options.workdir === undefined ? {} : { workdir: options.workdir }),
      ...(options.tty ? { tty: true } : {}),
      ...(options.privileged ? { privileged: true } : {}),
      ...(options.stdin ? { stdin: options.stdin } : {}),
      ...(options.detach ? { detach: true } : {}),
    },
    { signal: ctx.signal },
  );
}

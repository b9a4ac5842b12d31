/** `up` and `create`. */
import type { Command } from '@commander-js/extra-typings';
import { setMaxListeners } from 'node:events';
import { UsageError } from '../../errors.js';
import type { BuildPolicy, PullPolicy } from '../../engine/images.js';
import { CanceledError } from '../canceled.js';
import type { CommandContext, ContextOf } from '../context.js';
import type { Session } from '../session.js';
import type { Project } from '../../project/types.js';
import { LogPrinter } from '../render/log-consumer.js';
import { collect, parseScale, printPlan, pullOption, seconds, timeoutOption, valueOption } from './common.js';
import { logColour } from '../output.js';
import { isSwarm } from '../swarm/is-swarm.js';

/** The flags `up` and `create` share. */
export function upLikeCommand(program: Command, name: 'up' | 'create', description: string) {
  return program
    .command(name)
    .description(description)
    .option('--build', 'build images before starting containers')
    .option('--no-build', "don't build an image, even if it's missing")
    .addOption(pullOption())
    .option('--quiet-pull', 'pull without printing progress information')
    .option('--force-recreate', 'recreate containers even if their configuration and image have not changed')
    .option('--no-recreate', "if containers already exist, don't recreate them")
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .option('--scale <service=num>', 'scale SERVICE to NUM instances (repeatable)', collect)
    .option('-y, --yes', 'assume yes to all prompts');
}

export function upCommand(program: Command, context: ContextOf) {
  return upLikeCommand(program, 'up', 'Create and start containers')
    .option('-d, --detach', 'detached mode: run containers in the background')
    .option('--always-recreate-deps', 'recreate dependent containers (incompatible with --no-recreate)')
    .option('--wait', 'wait for services to be running|healthy (implies detached mode)')
    .option('--wait-timeout <seconds>', 'maximum duration to wait for the project to be running|healthy')
    .option('--abort-on-container-exit', 'stop all containers if any container was stopped')
    .option('--abort-on-container-failure', 'stop all containers if any container exited with failure')
    .option('--exit-code-from <service>', 'return the exit code of the selected service container (implies --abort-on-container-exit)')
    .addOption(timeoutOption())
    .option('--no-start', "don't start the services after creating them")
    .option('--no-deps', "don't start linked services")
    .option('--attach <service>', 'restrict attaching to the specified services (repeatable)', collect)
    .addOption(valueOption('--no-attach <service>', "don't attach to the specified service (repeatable)", 'noAttach'))
    .option('--attach-dependencies', 'automatically attach to log output of dependent services')
    .option('-V, --renew-anon-volumes', 'recreate anonymous volumes instead of retrieving data from the previous containers')
    .option('--no-color', 'produce monochrome output')
    .option('--no-log-prefix', "don't print prefix in logs")
    .option('--timestamps', 'show timestamps')
    .option('-w, --watch', 'watch source code and rebuild/refresh containers when files are updated (with -d: a watcher in the background)')
    .argument('[services...]', 'services to start')
    .action(async (services, opts, cmd) => runUp(context(cmd), services, opts as never));
}

export interface UpCliOptions {
  detach?: true;
  /** `--build` → true, `--no-build` → false. */
  build?: boolean;
  pull?: string;
  quietPull?: true;
  forceRecreate?: true;
  /** `--no-recreate` → false. */
  recreate?: boolean;
  alwaysRecreateDeps?: true;
  removeOrphans?: true;
  scale?: string[];
  wait?: true;
  waitTimeout?: string;
  abortOnContainerExit?: true;
  abortOnContainerFailure?: true;
  exitCodeFrom?: string;
  timeout?: string;
  start?: boolean;
  deps?: boolean;
  attach?: string[];
  noAttach?: string[];
  renewAnonVolumes?: true;
  color?: boolean;
  logPrefix?: boolean;
  timestamps?: true;
  yes?: true;
  watch?: true;
  attachDependencies?: true;
}

/**
 * Whose output attached `up` prints: `--attach`'s services, else those started that were named (all when none was),
 * with `--attach-dependencies` the services they depend on too; never `--no-attach`'s.
 */
export function attachedServices(started: readonly string[], named: readonly string[], opts: UpCliOptions): string[] {
  if (opts.attach) return opts.attach;
  return started.filter((x) => !(opts.noAttach ?? []).includes(x) && (named.length === 0 || named.includes(x) || opts.attachDependencies === true));
}

function check(opts: UpCliOptions): void {
  if (opts.detach && (opts.abortOnContainerExit || opts.abortOnContainerFailure || opts.attach || opts.exitCodeFrom))
    throw new UsageError('--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --exit-code-from or --attach');
  if (opts.recreate === false && (opts.forceRecreate || opts.alwaysRecreateDeps))
    throw new UsageError('--no-recreate cannot be combined with --force-recreate or --always-recreate-deps');
  if (opts.attachDependencies && opts.attach) throw new UsageError('cannot combine --attach and --attach-dependencies');
  if (opts.attachDependencies && (opts.detach || opts.wait))
    throw new UsageError('--detach and --wait cannot be combined with --attach-dependencies');
}

export async function runUp(ctx: CommandContext, services: string[], opts: UpCliOptions, mode: 'up' | 'create' = 'up'): Promise<void> {
  check(opts);
  if (opts.watch && isSwarm(ctx)) throw new UsageError('--watch is not available with --runtime swarm (a stack is deployed, not synced)');
  if (mode === 'up' && isSwarm(ctx)) return (await import('../swarm/commands.js')).runSwarmUp(ctx, services, opts);
  const [{ stop, kill }, { logs, logName }, { planUp, up }, { loadProject, originOf, withSession }] = await Promise.all([
    import('../../engine/lifecycle.js'),
    import('../../engine/logs.js'),
    import('../../engine/up.js'),
    import('../session.js'),
  ]);
  const loaded = loadProject(ctx, services);
  const { project } = loaded;
  // Refused before anything starts, as docker compose does.
  const watched = opts.watch ? (await import('../../engine/watch/watch.js')).watchedServices(project, services) : undefined;
  const build: BuildPolicy | undefined = opts.build === true ? 'always' : opts.build === false ? 'never' : undefined;
  const options = {
    services,
    noDeps: opts.deps === false,
    forceRecreate: opts.forceRecreate,
    noRecreate: opts.recreate === false,
    alwaysRecreateDeps: opts.alwaysRecreateDeps,
    removeOrphans:
      opts.removeOrphans ?? (process.env.COMPOSE_REMOVE_ORPHANS === 'true' || process.env.COMPOSE_REMOVE_ORPHANS === '1' ? true : undefined),
    noStart: mode === 'create' || opts.start === false,
    renewAnonVolumes: opts.renewAnonVolumes,
    scale: parseScale(opts.scale),
    timeoutSeconds: seconds(opts.timeout),
    build,
    pull: opts.pull as PullPolicy | undefined,
    quietPull: opts.quietPull,
    wait: mode === 'up' && opts.wait,
    waitTimeoutSeconds: seconds(opts.waitTimeout, '--wait-timeout'),
    origin: originOf(loaded),
    disabledServices: Object.keys(loaded.meta.disabledServices),
  };
  if (ctx.globals.dryRun) {
    await withSession(ctx, async (s) => printPlan(ctx, (await planUp(s.engine, project, options)).plan), { dryRun: true });
    return;
  }
  const detached = mode === 'create' || opts.detach || opts.wait || opts.start === false;
  await withSession(
    ctx,
    async (s) => {
      let interrupted = 0;
      const onSigint = (): void => {
        interrupted++;
        if (interrupted === 1) {
          s.renderer.stop();
          ctx.out.stderr.write('Gracefully Stopping... press Ctrl+C again to force\n');
          s.controller.abort(new CanceledError());
        } else if (interrupted === 2) {
          void kill({ ...s.engine, signal: undefined }, project.name, services).finally(() => process.exit(130));
        }
      };
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      try {
        const startedAt = Date.now() / 1000;
        const result = await up(s.engine, project, options);
        if (detached) {
          if (watched && mode === 'up') await startWatcher(ctx, s, project, watched);
          return;
        }
        s.renderer.stop();
        const attachTo = attachedServices(result.services, services, opts);
        const printer = new LogPrinter(ctx.out.stdout, ctx.out.stderr, {
          colour: logColour(ctx.globals.ansi, opts.color),
          prefix: opts.logPrefix !== false,
          timestamps: opts.timestamps === true,
        });
        const names = (await import('../../engine/containers.js')).projectContainers(s.engine.runtime, project.name, { services: attachTo });
        ctx.out.stdout.write(
          `Attaching to ${(await names)
            .map((c) => logName(project.name, c))
            .sort()
            .join(', ')}\n`,
        );
        let exitCode: number | undefined;
        const abortOn = opts.abortOnContainerExit || opts.abortOnContainerFailure || opts.exitCodeFrom !== undefined;
        const follow = new AbortController();
        // One signal is shared by every call in flight (p-queue tasks, engine requests): no listener cap.
        setMaxListeners(0, follow.signal);
        s.controller.signal.addEventListener('abort', () => follow.abort(), { once: true });
        const watching =
          watched &&
          (await import('../watching.js')).watchUntilStopped(s, loaded, watched, {
            log: (line) => printer.log('watch', { stream: 'stdout', line }),
            stop: follow.signal,
          });
        await logs({ ...s.engine, signal: follow.signal }, project.name, printer, {
          services: attachTo,
          follow: true,
          // While watching, a restart (a watch action) stops the container for a moment: follow until Ctrl-C.
          untilAllStopped: !watched,
          // Only this run's output, not that of earlier runs of restarted containers.
          since: startedAt,
          timestamps: opts.timestamps === true,
          onExit: (c, code) => {
            const svc = c.labels['com.docker.compose.service'];
            if (opts.exitCodeFrom !== undefined ? svc === opts.exitCodeFrom : exitCode === undefined) exitCode = code;
            if (abortOn && (!opts.abortOnContainerFailure || code !== 0 || opts.abortOnContainerExit)) {
              ctx.out.stdout.write('Aborting on container exit...\n');
              follow.abort();
            }
          },
        });
        follow.abort();
        await watching;
        const stopping = s.controller.signal.aborted || follow.signal.aborted;
        if (stopping) {
          const quietCtx = { ...s.engine, signal: undefined };
          await stop(quietCtx, project.name, services, { timeoutSeconds: options.timeoutSeconds, project });
        }
        if (s.controller.signal.aborted) throw new CanceledError();
        if (opts.exitCodeFrom !== undefined || abortOn) process.exitCode = exitCode ?? 0;
      } finally {
        process.removeListener('SIGINT', onSigint);
        process.removeListener('SIGTERM', onSigint);
      }
    },
    { handleSignals: false },
  );
}

/** `up -d --watch`: the project's watcher in the background (one per project: a second `up -d --watch` finds it). */
async function startWatcher(ctx: CommandContext, s: Session, project: Project, services: readonly string[]): Promise<void> {
  const { startDetachedWatcher, watchKey } = await import('../detached-watch.js');
  const { pid, already, restarted } = await startDetachedWatcher(ctx, s.engine.runtime, project.name, services, watchKey(project, services));
  s.renderer.stop();
  ctx.out.stderr.write(
    already
      ? `Watch already running in the background (pid ${pid})\n`
      : `Watch ${restarted ? 'restarted for the changed configuration' : 'enabled'} in the background (pid ${pid}): \`logs\` shows what it does, \`down\` stops it\n`,
  );
}

/** What `start`, `stop`, `restart`, `kill`, `pause`, `unpause` and `rm` share (each defines its flags in its own file). */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { confirm } from '../prompt.js';
import { seconds } from './common.js';

export type LifecycleCommand = 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'unpause' | 'rm';

export interface LifecycleCliOptions {
  timeout?: string;
  signal?: string;
  wait?: true;
  waitTimeout?: string;
  force?: true;
  stop?: true;
  volumes?: true;
  removeOrphans?: true;
  /** `restart --no-deps`: commander's negation of `deps`. */
  deps?: boolean;
}

/** The command `name` taking `[services...]`, its action runLifecycle; the caller adds the flags. */
export function lifecycleCommand(program: Command, context: ContextOf, name: LifecycleCommand, description: string) {
  return program
    .command(name)
    .description(description)
    .argument('[services...]')
    .action(async (services: string[], opts: LifecycleCliOptions, cmd: { optsWithGlobals(): object }) =>
      runLifecycle(context(cmd), name, services, opts),
    );
}

export async function runLifecycle(ctx: CommandContext, command: LifecycleCommand, services: string[], opts: LifecycleCliOptions): Promise<void> {
  const [{ kill, pause, restart, restartContainers, rm, start, stop, unpause, removableContainers }, { projectOrName, withSession }] =
    await Promise.all([import('../../engine/lifecycle.js'), import('../session.js')]);
  const { name, loaded } = projectOrName(ctx, services);
  // With a compose file, its post_start / pre_stop hooks run around start, stop and restart.
  const project = loaded?.project;
  if (ctx.globals.dryRun) {
    await withSession(
      ctx,
      async (s) => {
        const names =
          command === 'restart'
            ? (await restartContainers(s.engine, name, services, { noDeps: opts.deps === false })).map((c) => c.name)
            : await removableContainers(s.engine, name, services, command !== 'rm' || opts.stop === true);
        ctx.out.stdout.write(`DRY-RUN MODE - ${command}: ${names.length === 0 ? 'nothing to do' : names.join(' ')}\n`);
      },
      { dryRun: true },
    );
    return;
  }
  await withSession(ctx, async (s) => {
    const e = s.engine;
    switch (command) {
      case 'start':
        return start(e, name, services, {
          ...(opts.wait ? { wait: true } : {}),
          waitTimeoutSeconds: seconds(opts.waitTimeout, '--wait-timeout'),
          project,
        });
      case 'stop':
        return stop(e, name, services, { timeoutSeconds: seconds(opts.timeout), project });
      case 'restart':
        return restart(e, name, services, { timeoutSeconds: seconds(opts.timeout), noDeps: opts.deps === false, project });
      case 'kill':
        return kill(e, name, services, { signal: opts.signal });
      case 'pause':
        return pause(e, name, services);
      case 'unpause':
        return unpause(e, name, services);
      case 'rm': {
        if (!opts.force && !opts.stop) {
          const names = await removableContainers(e, name, services);
          if (names.length > 0 && process.stdin.isTTY) {
            s.renderer.stop();
            if (!(await confirm(`Going to remove ${names.join(', ')}\n? Are you sure? (y/N) `, { input: process.stdin, output: ctx.out.stderr })))
              return;
          }
        }
        await rm(e, name, services, { stop: opts.stop, volumes: opts.volumes, timeoutSeconds: seconds(opts.timeout), project });
        return;
      }
    }
  });
}

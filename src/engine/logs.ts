/**
 * `logs` and the log streaming of attached `up`: every container's output goes to a LogConsumer (the CLI prints
 * it with a `name |` prefix). Following re-attaches to containers that start later (restarts, recreation, scale).
 */
import { setMaxListeners } from 'node:events';
import type { ContainerInspect, ContainerSummary, LogLine, LogsOptions } from '../runtime/runtime.js';
import { isOneoff, numberOf, projectContainers, serviceOf } from './containers.js';
import { warning, type EngineContext } from './events.js';
import { LABEL_ONEOFF, LABEL_SERVICE } from './labels.js';
import { LogsNotReadableError } from '../runtime/errors.js';
import { LogResume } from './log-resume.js';

export interface LogConsumer {
  /** A container joins: `name` is its prefix (`web-1`). */
  register(name: string): void;
  log(name: string, line: LogLine): void;
  /** `web-1 exited with code 0`. */
  status(name: string, text: string): void;
}

export interface LogsUseCaseOptions {
  readonly services?: readonly string[] | undefined;
  readonly follow?: boolean | undefined;
  readonly tail?: number | 'all' | undefined;
  /** Unix seconds or an RFC 3339 timestamp. */
  readonly since?: string | number | undefined;
  readonly until?: string | number | undefined;
  readonly timestamps?: boolean | undefined;
  /** `--index`: only container number N. */
  readonly index?: number | undefined;
  /** Attached `up`: stop following once no container of the services runs any more. */
  readonly untilAllStopped?: boolean | undefined;
  /** Called when a followed container exits (attached `up --abort-on-container-exit`). */
  readonly onExit?: ((container: ContainerSummary, exitCode: number) => void) | undefined;
}

/** The prefix of a container: its name minus `project-`, or the full name (container_name, one-offs). */
export function logName(project: string, c: ContainerSummary): string {
  const prefix = `${project}-`;
  return c.name.startsWith(prefix) ? c.name.slice(prefix.length) : c.name;
}

export async function logs(ctx: EngineContext, project: string, consumer: LogConsumer, options: LogsUseCaseOptions = {}): Promise<void> {
  const select = (list: ContainerSummary[]): ContainerSummary[] => list.filter((c) => options.index === undefined || numberOf(c) === options.index);
  const base: LogsOptions = {
    ...(options.tail === undefined ? {} : { tail: options.tail }),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.timestamps ? { timestamps: true } : {}),
  };
  const containers = select(await projectContainers(ctx.runtime, project, { services: options.services, signal: ctx.signal }));
  for (const c of [...containers].sort((a, b) => (a.name < b.name ? -1 : 1))) consumer.register(logName(project, c));

  /** docker compose's warning for a container whose logging driver keeps nothing (`none`); false for other errors. */
  const unreadable = (c: ContainerSummary, e: unknown): boolean => {
    if (!(e instanceof LogsNotReadableError)) return false;
    ctx.events.emit(warning(`Container ${c.name}`, 'Warning', `Can't retrieve logs for "${c.name}": ${e.message}`));
    return true;
  };

  if (!options.follow) {
    for (const c of containers) {
      try {
        for await (const line of ctx.runtime.containerLogs(c.id, { ...base, signal: ctx.signal })) consumer.log(logName(project, c), line);
      } catch (e) {
        if (!unreadable(c, e)) throw e;
      }
    }
    return;
  }

  const ac = new AbortController();
  // One signal is shared by every call in flight (p-queue tasks, engine requests): no listener cap.
  setMaxListeners(0, ac.signal);
  /** Events are replayed from here: a restart that happens before the subscription is in place is not lost. */
  const followStartMs = Date.now();
  const onAbort = (): void => ac.abort();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  const attached = new Map<string, Promise<void>>();
  /** Containers whose logging driver keeps nothing: warned about once, never followed. */
  const notReadable = new Set<string>();
  let everAttached = false;
  /** Containers that started again while their previous stream was still open: id → where the new run begins. */
  const pending = new Map<string, string | number>();
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((r) => (finish = r));
  /** Where each container's log was left: a re-attached stream gives no line twice (./log-resume.ts). */
  const resume = new LogResume();
  /** Whether the event watcher runs (it attaches to restarted containers). */
  let watching = true;
  /**
   * The exit codes of die events not yet matched to a stream's end, per container, oldest first. A run that a
   * restart ended gets its exit line from its die event: the restarted container's inspect says 0 again.
   */
  const dies = new Map<string, number[]>();
  /** Per container: streams that ended before their die event came (those events are then dropped). */
  const owed = new Map<string, number>();
  /** The exit code of the run whose stream just ended: its die event, waited for a little (`wait`), or undefined. */
  const takeDie = async (id: string, wait: boolean): Promise<number | undefined> => {
    for (let i = 0; ; i++) {
      const code = dies.get(id)?.shift();
      if (code !== undefined) return code;
      if (!wait || !watching || i >= 50 || ac.signal.aborted) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    owed.set(id, (owed.get(id) ?? 0) + 1);
    return undefined;
  };

  const checkAllStopped = async (): Promise<void> => {
    if (!options.untilAllStopped || ac.signal.aborted) return;
    const now = await projectContainers(ctx.runtime, project, { services: options.services });
    if (!now.some((c) => c.status === 'running' || c.status === 'restarting') && everAttached && attached.size === 0) finish();
  };

  /** Follows `c`; `since` (where a new run begins) instead of the usual options when re-attaching. */
  const attach = (c: ContainerSummary, since?: string | number): void => {
    if (attached.has(c.id) || notReadable.has(c.id)) return;
    everAttached = true;
    const name = logName(project, c);
    consumer.register(name);
    // Always with timestamps, for `resume`; printed only when asked for.
    const opts: LogsOptions =
      since === undefined
        ? { ...base, timestamps: true, follow: true, signal: ac.signal }
        : { ...base, timestamps: true, tail: 'all', since, follow: true, signal: ac.signal };
    const fresh = resume.stream(c.id);
    /** Whether this stream follows a run (a restart's, or one running when it began), whose end is an exit. */
    const followedRun = since !== undefined || c.status === 'running' || c.status === 'paused';
    const p = (async () => {
      try {
        for await (const line of ctx.runtime.containerLogs(c.id, opts)) {
          if (!fresh(line)) continue;
          consumer.log(name, base.timestamps ? line : { stream: line.stream, line: line.line });
        }
      } catch (e) {
        // else: container removed while following
        if (unreadable(c, e)) {
          notReadable.add(c.id);
          attached.delete(c.id);
          return;
        }
      }
      attached.delete(c.id);
      if (ac.signal.aborted) return;
      const again = pending.get(c.id);
      if (again !== undefined) {
        // The run followed ended and the next one has started: its exit line, then the new run.
        pending.delete(c.id);
        const code = await takeDie(c.id, true);
        if (code !== undefined) consumer.status(name, `exited with code ${code}`);
        attach(c, again);
        return;
      }
      try {
        const i = await ctx.runtime.inspectContainer(c.id);
        if (i.status === 'running' || i.status === 'restarting') {
          // Restarted while we were reading, or waiting to: the ended run's exit line (when the stream followed a
          // run: not for a container that had not started yet); then follow the new run from its start. Still
          // waiting to restart: its start event attaches (re-attaching now would end at once, over and over).
          if (followedRun) {
            const code = (await takeDie(c.id, true)) ?? (i.status === 'restarting' ? i.exitCode : undefined);
            if (code !== undefined) consumer.status(name, `exited with code ${code}`);
          }
          if (i.status === 'running' || !watching) {
            attach(c, runSince(c, i));
            return;
          }
        } else if (i.status === 'exited' || i.status === 'dead') {
          // Its die event, if it came, is this exit's: matched, not printed again.
          if (followedRun) await takeDie(c.id, false);
          consumer.status(name, `exited with code ${i.exitCode}`);
          options.onExit?.(c, i.exitCode);
        }
      } catch {
        // removed
      }
      await checkAllStopped();
    })();
    attached.set(c.id, p);
  };

  for (const c of containers) attach(c);

  // Containers started later (restart, recreate, scale up): attach to them too.
  const watcher = (async () => {
    try {
      const since = Math.floor(followStartMs / 1000);
      for await (const e of ctx.runtime.events({ labels: { [LABEL_ONEOFF]: 'False' }, types: ['container'], since, signal: ac.signal })) {
        // A die replayed from just before the follow began can still be the end of a followed run (a stream that
        // ends then takes one die, whichever it is); a start before it was already seen by the first listing.
        if (e.action !== 'die' && (e.action !== 'start' || e.time < followStartMs)) continue;
        if (e.attributes['com.docker.compose.project'] !== project) continue;
        const service = e.attributes[LABEL_SERVICE] ?? '';
        if (options.services && options.services.length > 0 && !options.services.includes(service)) continue;
        if (e.action === 'die') {
          const code = Number(e.attributes['exitCode']);
          const due = owed.get(e.id) ?? 0;
          if (due > 0) owed.set(e.id, due - 1);
          else if (Number.isInteger(code)) dies.set(e.id, [...(dies.get(e.id) ?? []), code]);
          continue;
        }
        const list = select(await projectContainers(ctx.runtime, project, { services: options.services }));
        const c = list.find((x) => x.id === e.id);
        if (!c || isOneoff(c) || serviceOf(c) === '') continue;
        let since: string | number;
        try {
          since = runSince(c, await ctx.runtime.inspectContainer(c.id));
        } catch {
          continue;
        }
        if (attached.has(c.id)) pending.set(c.id, since);
        else attach(c, since);
      }
    } catch {
      // the runtime has no event stream: follow the containers known so far
    }
    watching = false;
  })();

  if (options.untilAllStopped) void checkAllStopped();
  const aborted = new Promise<void>((r) => ac.signal.addEventListener('abort', () => r(), { once: true }));
  if (options.untilAllStopped) await Promise.race([finished, aborted]);
  else
    await Promise.race([
      aborted,
      (async () => {
        await watcher;
        while (attached.size > 0) await Promise.allSettled([...attached.values()]);
      })(),
    ]);
  ac.abort();
  ctx.signal?.removeEventListener('abort', onAbort);
  await Promise.allSettled([...attached.values(), watcher]);
}

/**
 * Where a container's current run begins in its log: the end of its previous run, or its creation for a first
 * run. Not StartedAt: the engine records that after the process is running, so a first line written at once
 * can carry an earlier timestamp and be cut off.
 */
function runSince(c: ContainerSummary, i: ContainerInspect): number {
  const finished = i.finishedAt === undefined ? NaN : Date.parse(i.finishedAt);
  return (Number.isFinite(finished) ? finished : c.created) / 1000;
}

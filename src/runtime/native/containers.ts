/**
 * Native containers: finding and observing them (records in the state directory, ./state.ts, their status checked
 * against conmon's exit file) and their lifecycle (start, stop, kill, remove, rename, restart, pause, unpause,
 * wait, top). Creation is ./container-create.ts; exec, logs, events and copies are ./container-io.ts. Runs are
 * started by ./monitor/conmon.ts and their exits recorded by ./monitor/exit.ts, shared with the exit hook.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { TsComposeError } from '../../errors.js';
import { ConflictError, NotFoundError, NotModifiedError } from '../errors.js';
import {
  matchesLabels,
  type CallOptions,
  type ContainerInspect,
  type ContainerSpec,
  type ContainerStatus,
  type ContainerSummary,
  type EndpointInfo,
  type ListContainersOptions,
  type ProcessList,
  type WaitOptions,
} from '../runtime.js';
import type { NativeContext } from './context.js';
import { startContainerProcess, startLaunched, stopProcess } from './monitor/conmon.js';
import { PreparedStarts, preparedFor, readyToLaunch, userStart } from './prepared-starts.js';
import { finalizeExit, waitExitFile } from './monitor/exit.js';
import { eventAttributes, imageRunConfig, liveStatus } from './monitor/record.js';
import { reviveHealthMonitor } from './monitor/health-launch.js';
import { destroyContainer } from './container-destroy.js';
import { containerNetnsPath, usesBridge } from './netglue.js';
import { healthcheckOf } from './monitor/healthcheck.js';
import { mergeArgs } from './oci/process.js';
import { stopSignalOf } from './oci/signals.js';
import type { OciNetwork } from './oci/spec-types.js';
import type { ContainerRecord } from './state.js';
import { unsupported } from './unsupported.js';
import type { VolumeService } from './volumes.js';
import type { NetworkService } from './networks.js';
import { traced } from '../../util/trace.js';

const execFileP = promisify(execFile);

export class ContainerService {
  /** Network name → id, read once per list or inspect. */
  private networkIds: Record<string, string> | undefined;
  /**
   * Stops made for a removal (`down`, a recreate): their exit is recorded here, off the path of the next stop in
   * reverse dependency order; `remove` waits for it. Keyed by container id; true when that recording also wrote
   * what the removal writes first (stopped by the user, the next generation), so the removal skips that update.
   */
  private readonly finishing = new Map<string, Promise<boolean>>();
  private readonly prepared: PreparedStarts;

  constructor(
    private readonly ctx: NativeContext,
    private readonly volumes: VolumeService,
    private readonly networks: NetworkService,
  ) {
    this.prepared = new PreparedStarts(ctx);
  }

  // ------------------------------------------------------------------------------------------------------------
  // finding and observing

  async record(idOrName: string): Promise<ContainerRecord> {
    const r = await this.ctx.state.find(idOrName);
    if (!r) throw new NotFoundError('container', idOrName);
    return r;
  }

  async status(r: ContainerRecord): Promise<ContainerStatus> {
    const s = await liveStatus(this.ctx, r);
    if (s === 'exited' && (r.state.status === 'running' || r.state.status === 'paused' || r.state.status === 'restarting')) {
      // The exit hook has not run yet (or could not, or its back-off went with a reboot): record the exit now.
      const next = await finalizeExit(this.ctx, r.id, r.state.generation);
      if (next) Object.assign(r, next);
    }
    return s;
  }

  /** The record of a running container (exec): a paused or stopped one is a conflict. */
  async running(idOrName: string): Promise<ContainerRecord> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s === 'paused') throw new ConflictError('container', r.name, `container ${r.id} is paused, unpause the container before exec`);
    if (s !== 'running') throw new ConflictError('container', r.name, `container ${r.id} is not running`);
    return r;
  }

  private summary(r: ContainerRecord, status: ContainerStatus): ContainerSummary {
    return {
      id: r.id,
      name: r.name,
      image: r.image,
      imageId: r.imageId,
      labels: r.labels,
      status,
      created: r.created,
      networks: this.endpointsOf(r, status),
      mounts: r.mounts,
      publishedPorts: status === 'running' || status === 'paused' ? (r.state.publishedPorts ?? []) : [],
    };
  }

  /** The configured networks (Docker reports them for stopped containers too), with addresses while running. */
  private endpointsOf(r: ContainerRecord, status: ContainerStatus): Record<string, EndpointInfo> {
    const out: Record<string, EndpointInfo> = {};
    if (!usesBridge(r)) return out;
    const live = status === 'running' || status === 'paused' ? (r.state.endpoints ?? {}) : {};
    const ids = this.networkIds ?? {};
    for (const ep of r.spec.networks ?? []) {
      const e = live[ep.network];
      out[ep.network] = { networkId: e?.networkId ?? ids[ep.network] ?? '', aliases: [...(ep.aliases ?? [])], ...(e ? { ipAddress: e.ip } : {}) };
    }
    return out;
  }

  async list(options: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    const { containers, abandoned } = await this.ctx.state.scan();
    // Creations abandoned by a killed CLI: remove what they made (mounts, name, directory).
    for (const id of abandoned) await this.destroyCreation(id).catch(() => undefined);
    this.networkIds = await this.networks.ids();
    const all = containers.filter((r) => matchesLabels(r.labels, options.labels));
    const out: ContainerSummary[] = [];
    let checked = false;
    for (const r of all) {
      const status = await this.status(r);
      if (status === 'running' && r.state.health) checked = true;
      if (options.all === false && status !== 'running' && status !== 'paused') continue;
      out.push(this.summary(r, status));
    }
    // A health monitor killed meanwhile (the OOM killer, kill -9) comes back with the next look at the containers.
    if (checked) await reviveHealthMonitor(this.ctx).catch(() => undefined);
    return out.sort((a, b) => a.created - b.created);
  }

  /**
   * Containers their restart policy wants back after the machine came back (Runtime.listResumable): `always`;
   * `unless-stopped` not stopped by a user; `on-failure` whose run was cut off. Not those running, being created or
   * removed.
   */
  async resumable(): Promise<string[]> {
    const { containers } = await this.ctx.state.scan();
    const out: string[] = [];
    for (const r of containers) {
      const status = await this.status(r);
      if (status === 'running' || status === 'paused' || status === 'restarting') continue;
      const policy = r.spec.restart ?? 'no';
      const wanted =
        policy === 'always' ||
        (policy === 'unless-stopped' && !r.state.stoppedByUser) ||
        (policy.startsWith('on-failure') && r.state.interrupted === true && !r.state.stoppedByUser);
      if (wanted) out.push(r.id);
    }
    return out;
  }

  async inspect(idOrName: string): Promise<ContainerInspect> {
    const r = await this.record(idOrName);
    this.networkIds = await this.networks.ids();
    const status = await this.status(r);
    const image = await imageRunConfig(this.ctx, r);
    const hc = r.state.health ? healthcheckOf(r.spec, image) : undefined;
    let command: string[] | undefined;
    try {
      command = mergeArgs(r.spec, image);
    } catch {
      // no command: the container could not have been created; nothing to show
    }
    return {
      ...this.summary(r, status),
      exitCode: r.state.exitCode,
      ...(command ? { command } : {}),
      ...(hc && r.state.health && (status === 'running' || status === 'paused') ? { health: r.state.health.status } : {}),
      ...(r.state.startedAt ? { startedAt: r.state.startedAt } : {}),
      ...(r.state.finishedAt ? { finishedAt: r.state.finishedAt } : {}),
    };
  }

  /** The network namespace for a spec: bridge networks (made at each start), `none`, `host`, or another container's. */
  async networkOf(spec: ContainerSpec, id: string): Promise<OciNetwork> {
    const mode = spec.networkMode;
    if (mode === undefined && (spec.networks?.length ?? 0) > 0) {
      // Bridge networks: the netns is made when a run starts (see netglue.ts); check the networks exist now.
      const state = await this.ctx.networks.read();
      for (const ep of spec.networks ?? []) if (!state.networks[ep.network]) throw new NotFoundError('network', ep.network);
      return { netnsPath: containerNetnsPath(id) };
    }
    if (mode === 'none') return 'none';
    if (mode === 'host') return 'host';
    if (mode !== undefined && mode.startsWith('container:')) {
      const other = await this.record(mode.slice('container:'.length));
      if ((await this.status(other)) !== 'running' || other.state.pid === undefined) {
        throw new ConflictError('container', other.name, `cannot join the network namespace of container ${other.name}: it is not running`);
      }
      return { netnsPath: `/proc/${other.state.pid}/ns/net` };
    }
    throw unsupported(
      `network_mode ${mode ?? '(none given, no networks)'}`,
      'the native runtime has no default bridge: use compose networks (the default network works), or network_mode none, host or service:NAME',
    );
  }

  // ------------------------------------------------------------------------------------------------------------
  // lifecycle

  /** Runtime.prepareStart: the start up to the OCI runtime's `start` (./prepared-starts.ts). */
  async prepareStart(idOrName: string): Promise<void> {
    const r = await this.ctx.state.find(idOrName);
    if (r) await this.prepared.prepare(r.id);
  }

  discardPreparedStarts(): Promise<void> {
    return this.prepared.discardAll();
  }

  async start(idOrName: string): Promise<void> {
    const r0 = await this.record(idOrName);
    const prepared = this.prepared.take(r0.id);
    if ((await this.status(r0)) === 'running' || r0.state.status === 'paused') {
      await this.prepared.undo(r0.id, prepared);
      throw new NotModifiedError('container', r0.name, 'already running');
    }
    const ctx = this.ctx;
    let started: ContainerRecord | undefined;
    await ctx.state.update(r0.id, async (r) => {
      if (prepared && preparedFor(r, prepared)) return (started = await startLaunched(ctx, userStart(r), prepared));
      // Another start came between: it cleared the preparation's runtime state and endpoints, not its log keeper.
      if (prepared) stopProcess(prepared.keeperPid);
      if (r.state.status === 'running' || r.state.status === 'paused') return undefined;
      await readyToLaunch(ctx, r);
      return (started = await startContainerProcess(ctx, userStart(r)));
    });
    if (started) await ctx.event({ type: 'container', action: 'start', id: r0.id, attributes: eventAttributes(started) });
  }

  /** Sends the stop signal, waits `timeoutSeconds`, then SIGKILL; records the exit. */
  private async stopRecord(r: ContainerRecord, timeoutSeconds: number | undefined, signal?: string): Promise<void> {
    await this.signalAndWaitExit(r, timeoutSeconds, signal);
    await this.recordExit(r.id, false);
  }

  /** Records the exit of a process that has ended (and, unless `keepNetworks`, releases its network endpoints). */
  private recordExit(id: string, keepNetworks: boolean, removing = false): Promise<ContainerRecord | undefined> {
    return traced('native.stop.finalize', () => finalizeExit(this.ctx, id, undefined, { keepNetworks, removing }));
  }

  /** Sends the stop signal, waits `timeoutSeconds` for the exit, then SIGKILL and waits again. */
  private async signalAndWaitExit(r: ContainerRecord, timeoutSeconds: number | undefined, signal?: string): Promise<void> {
    const ctx = this.ctx;
    // Stopped by the user since its last start (a start removes the file): conmon's exit command sees it and leaves
    // recording the exit to us (no Node start per stopped container), and whoever records the exit (finalizeExit)
    // marks the record stopped by the user, so no restart policy brings it back. One hard link (markStopping) before
    // the signal, not a locked rewrite of the record: in `down`, each level of the reverse dependency order waited
    // ~15 ms for that.
    ctx.state.markStopping(r.id);
    const timeout = (timeoutSeconds ?? r.spec.stopTimeoutSeconds ?? 10) * 1000;
    const sig = timeout === 0 ? 'SIGKILL' : (signal ?? stopSignalOf(r.spec, await imageRunConfig(ctx, r)));
    const wasPaused = r.state.status === 'paused';
    if (sig === 'SIGKILL' && !wasPaused) {
      // SIGKILL to the init of its own pid namespace ends every process of the container, no spawn needed;
      // otherwise `delete --force` kills every process and removes the runtime state: one spawn, not kill + delete.
      if (!(await ctx.oci.killWithoutSpawn(r.id, 'SIGKILL', true))) await ctx.oci.delete(r.id, true).catch(() => undefined);
    } else {
      await ctx.oci.kill(r.id, sig, sig === 'SIGKILL').catch(() => undefined);
      if (wasPaused) await ctx.oci.resume(r.id).catch(() => undefined);
    }
    await traced('native.stop.wait-exit', async () => {
      if (sig === 'SIGKILL') await waitExitFile(ctx, r, 10_000);
      else if (!(await waitExitFile(ctx, r, timeout))) {
        await ctx.oci.kill(r.id, 'SIGKILL', true).catch(() => undefined);
        await waitExitFile(ctx, r, 10_000);
      }
    });
  }

  async stop(idOrName: string, options: CallOptions & { timeoutSeconds?: number | undefined; removing?: boolean | undefined } = {}): Promise<void> {
    let r = await this.record(idOrName);
    let s = await this.status(r);
    // Between two runs of a restart policy (also when status() has just recorded the exit and so set it
    // `restarting`: the exit hook's restart is pending): cancel the pending restart.
    if (s === 'restarting' || r.state.status === 'restarting') {
      const after = await this.ctx.state.update(r.id, (rec) => ({
        ...rec,
        state: { ...rec.state, status: rec.state.status === 'restarting' ? 'exited' : rec.state.status, stoppedByUser: true },
      }));
      // The exit hook may have started the next run while this waited for the record's lock (`down` then found the
      // container it had "stopped" running): stop that run.
      if (after?.state.status !== 'running' && after?.state.status !== 'paused') return;
      r = after;
      s = after.state.status;
    }
    if (s !== 'running' && s !== 'paused') throw new NotModifiedError('container', r.name, 'not running');
    const stopped = (): Promise<void> => this.ctx.event({ type: 'container', action: 'stop', id: r.id, attributes: eventAttributes(r) });
    if (options.removing !== true) {
      await this.stopRecord(r, options.timeoutSeconds);
      await stopped();
      return;
    }
    // Removed right after (down, a recreate): the caller may go on (the next stop in reverse dependency order) as
    // soon as the process has exited; recording the exit, the runtime state's deletion and the event follow here
    // while it does, and `remove` waits for them. Network endpoints go with the removal.
    await this.signalAndWaitExit(r, options.timeoutSeconds);
    const done = this.recordExit(r.id, true, true)
      .then(async (rec) => {
        await stopped();
        return rec?.state.status === 'exited' && rec.state.stoppedByUser === true && rec.state.generation > r.state.generation;
      })
      .catch(() => false) // the removal records what is left (status() finalizes an unrecorded exit)
      .finally(() => this.finishing.delete(r.id));
    this.finishing.set(r.id, done);
  }

  async kill(idOrName: string, options: CallOptions & { killSignal?: string | undefined } = {}): Promise<void> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s !== 'running' && s !== 'paused') throw new ConflictError('container', r.name, `container ${r.id} is not running`);
    const sig = options.killSignal ?? 'SIGKILL';
    await this.ctx.state.update(r.id, (rec) => ({ ...rec, state: { ...rec.state, stoppedByUser: true } }));
    this.ctx.state.markStopping(r.id);
    try {
      await this.ctx.oci.kill(r.id, sig);
    } catch (e) {
      throw new TsComposeError('TSC_NATIVE_KILL', `cannot kill container ${r.name}: ${(e as Error).message}`);
    }
    await this.ctx.event({ type: 'container', action: 'kill', id: r.id, attributes: eventAttributes(r, { signal: sig }) });
    if (await waitExitFile(this.ctx, r, 2000)) await finalizeExit(this.ctx, r.id);
  }

  /**
   * Removes everything of a container: runtime state, rootfs mount, directories, name claim. Idempotent: a rerun after
   * a kill at any point finishes it (./container-destroy.ts).
   */
  destroy(id: string): Promise<void> {
    return destroyContainer(this.ctx, id);
  }

  /**
   * Removes a creation that failed or whose CLI was killed, with the anonymous volumes it made: its placeholder
   * record (still `creating`) names only those (./container-mounts.ts), not the ones inherited from the container it
   * replaces. The volumes go first: a kill in between leaves the placeholder, which the next command removes again.
   */
  async destroyCreation(id: string): Promise<void> {
    const r = await this.ctx.state.read(id).catch(() => undefined);
    if (r?.creating !== undefined) for (const v of r.anonymousVolumes) await this.volumes.remove(v, { force: true }).catch(() => undefined);
    await this.destroy(id);
  }

  async remove(idOrName: string, options: CallOptions & { force?: boolean | undefined; volumes?: boolean | undefined } = {}): Promise<void> {
    const r0 = await this.record(idOrName);
    const pending = this.finishing.get(r0.id);
    // A stop for this removal still recording the exit: wait for it, then read the record it wrote.
    let prepared = pending ? await traced('native.remove.wait-stop', () => pending) : false;
    const r = pending ? await this.record(r0.id) : r0;
    const s = await this.status(r);
    if (s === 'running' || s === 'paused') {
      prepared = false;
      if (!options.force) {
        throw new ConflictError(
          'container',
          r.name,
          `cannot remove container "/${r.name}": container is running: stop the container before removing or force remove`,
        );
      }
      await this.stopRecord(r, 0, 'SIGKILL');
    }
    if (!prepared)
      await this.ctx.state.update(r.id, (rec) => ({ ...rec, state: { ...rec.state, stoppedByUser: true, generation: rec.state.generation + 1 } }));
    await this.destroy(r.id);
    if (options.volumes) for (const v of r.anonymousVolumes) await this.volumes.remove(v, { force: true }).catch(() => undefined);
    await this.ctx.event({ type: 'container', action: 'destroy', id: r.id, attributes: eventAttributes(r) });
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    const r = await this.record(idOrName);
    const taken = await this.ctx.state.claimName(newName, r.id);
    if (taken) throw new ConflictError('container', newName, `the container name "/${newName}" is already in use by container "${taken}"`);
    await this.ctx.state.update(r.id, (rec) => ({ ...rec, name: newName, spec: { ...rec.spec, name: newName } }));
    await this.ctx.state.releaseName(r.name, r.id);
    await this.ctx.event({
      type: 'container',
      action: 'rename',
      id: r.id,
      attributes: eventAttributes({ ...r, name: newName }, { oldName: r.name }),
    });
  }

  async restart(idOrName: string, options: CallOptions & { timeoutSeconds?: number | undefined } = {}): Promise<void> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s === 'running' || s === 'paused') await this.stopRecord(r, options.timeoutSeconds);
    await this.start(r.id);
    await this.ctx.event({ type: 'container', action: 'restart', id: r.id, attributes: eventAttributes(r) });
  }

  async pause(idOrName: string): Promise<void> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s === 'paused') throw new ConflictError('container', r.name, `container ${r.id} is already paused`);
    if (s !== 'running') throw new ConflictError('container', r.name, `container ${r.id} is not running`);
    await this.ctx.oci.pause(r.id);
    await this.ctx.state.update(r.id, (rec) => ({ ...rec, state: { ...rec.state, status: 'paused' } }));
    await this.ctx.event({ type: 'container', action: 'pause', id: r.id, attributes: eventAttributes(r) });
  }

  async unpause(idOrName: string): Promise<void> {
    const r = await this.record(idOrName);
    if ((await this.status(r)) !== 'paused') throw new ConflictError('container', r.name, `container ${r.id} is not paused`);
    await this.ctx.oci.resume(r.id);
    await this.ctx.state.update(r.id, (rec) => ({ ...rec, state: { ...rec.state, status: 'running' } }));
    await this.ctx.event({ type: 'container', action: 'unpause', id: r.id, attributes: eventAttributes(r) });
  }

  async wait(idOrName: string, options: WaitOptions = {}): Promise<number> {
    const first = await this.record(idOrName);
    const condition = options.condition ?? 'not-running';
    const startGen = first.state.generation;
    const firstStatus = await this.status(first);
    let delay = 20;
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted');
      const r = await this.ctx.state.find(first.id);
      if (!r) {
        if (condition === 'removed' || condition === 'not-running') return first.state.exitCode;
        throw new NotFoundError('container', idOrName);
      }
      const s = await this.status(r);
      const stopped = s !== 'running' && s !== 'paused';
      if (condition === 'not-running' && stopped) return r.state.exitCode;
      if (condition === 'next-exit' && stopped && (r.state.generation > startGen || firstStatus === 'running' || firstStatus === 'paused'))
        return r.state.exitCode;
      await sleep(delay);
      delay = Math.min(delay * 2, 200);
    }
  }

  async top(idOrName: string, options: CallOptions & { psArgs?: string | undefined } = {}): Promise<ProcessList> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s !== 'running' && s !== 'paused') throw new ConflictError('container', r.name, `container ${r.id} is not running`);
    const pids = new Set(await this.ctx.oci.ps(r.id));
    const args = (options.psArgs ?? '-ef').split(/\s+/).filter(Boolean);
    const { stdout } = await execFileP('ps', args);
    const lines = stdout.split('\n').filter((l) => l.trim() !== '');
    const titles = (lines[0] ?? '').trim().split(/\s+/);
    const pidCol = titles.indexOf('PID');
    if (pidCol < 0) throw new TsComposeError('TSC_NATIVE_TOP', `ps ${args.join(' ')}: no PID column in its output`);
    const last = titles.length - 1;
    const processes = lines.slice(1).flatMap((l) => {
      const cols = l.trim().split(/\s+/);
      const row = [...cols.slice(0, last), cols.slice(last).join(' ')];
      return pids.has(Number(row[pidCol])) ? [row] : [];
    });
    return { titles, processes };
  }
}

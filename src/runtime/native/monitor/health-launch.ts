/**
 * The CLI's (and the exit hook's) side of the native health monitor: a start of a container with a healthcheck
 * registers its run (./health-registry.ts) and makes sure the state directory's one health monitor
 * (./health-monitor.ts) runs, starting it (detached, so health is checked after the CLI exited) when none is alive —
 * also after a `kill -9` of the monitor, which then takes up every registered run again.
 */
import { helperEntry } from '../../../lib/helper-entry.js';
import type { NativeContext } from '../context.js';
import { livingMonitor, MONITOR_ENTRY, registeredRuns, registerRun, withHealthLock, writeMonitorPid } from './health-registry.js';

/** Registers the run `generation` of container `id` for health checks and makes sure the monitor runs. */
export async function monitorHealth(ctx: NativeContext, id: string, generation: number): Promise<void> {
  await withHealthLock(ctx.paths.run, async () => {
    await registerRun(ctx.paths.run, { id, generation, oci: ctx.oci.binary, binaryMount: ctx.oci.options.protectedBinaryDir });
    await startMonitorLocked(ctx);
  });
}

/**
 * Starts the monitor again if runs are registered and none is alive (it was killed): for commands that read health
 * and would otherwise see it stand still. Cheap when it runs (reads a pid file).
 */
export async function reviveHealthMonitor(ctx: NativeContext): Promise<void> {
  if ((await livingMonitor(ctx.paths.run, ctx.paths.root)) !== undefined) return;
  await withHealthLock(ctx.paths.run, async () => {
    if ((await registeredRuns(ctx.paths.run)).length > 0) await startMonitorLocked(ctx);
  });
}

/**
 * V8's young generation grows to 16 MB semi-spaces under the allocation rate of many checks a second (10 containers
 * checked every second: RSS 74 MB after 2 minutes, with 5 MB of live heap); 1 MB keeps it at ~64 MB for little CPU.
 */
const MONITOR_NODE_FLAGS = ['--max-semi-space-size=1'];

async function startMonitorLocked(ctx: NativeContext): Promise<void> {
  if ((await livingMonitor(ctx.paths.run, ctx.paths.root)) !== undefined) return;
  const entry = helperEntry(MONITOR_ENTRY, import.meta.url);
  // Started by the helper shell, not forked from this (large) process. Until the shell has exec'd it, its pid is
  // that shell's, whose command line names the monitor's entry and state directory too: isHealthMonitor holds.
  const pid = await ctx.spawner.startDetached({
    command: process.execPath,
    args: [...MONITOR_NODE_FLAGS, entry, ctx.paths.root, ctx.paths.run],
    // No TLS in it: without NODE_EXTRA_CA_CERTS, Node does not parse that file at its start (~40 ms).
    env: { NODE_EXTRA_CA_CERTS: '', TSCOMPOSE_STATE_DIR: ctx.paths.root, TSCOMPOSE_RUN_DIR: ctx.paths.run },
  });
  // Written under the lock, before the monitor could take it: parallel starts see this one alive and start none.
  if (pid !== undefined) await writeMonitorPid(ctx.paths.run, pid);
}

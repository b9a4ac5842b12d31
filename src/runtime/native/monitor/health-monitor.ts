/**
 * The health monitor of a native state directory (./health-supervisor.ts): one detached process, started by the
 * first start of a container with a healthcheck (./health-launch.ts), checks every running container of the state
 * directory that has one, on Docker's schedule, so health keeps being checked after the CLI exited; records each
 * result in the container's record and emits `health_status: …` events on changes. Exits when no container of the
 * state directory is left to check.
 *
 *   node health-monitor.js <state dir> <run dir>
 */
import { runHealthSupervisor } from './health-supervisor.js';

const [root, run] = process.argv.slice(2);
if (root && run) {
  runHealthSupervisor(root, run).catch((e: unknown) => {
    process.stderr.write(`tscompose health monitor: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}

/**
 * A native container's health monitor: started with each run of a container that has a healthcheck (compose's or
 * the image's), detached from the CLI, so health keeps being checked after the CLI exited. Runs the test with the
 * OCI runtime's `exec` on Docker's schedule (interval, timeout, retries, start_period, start_interval) and records
 * the status (`starting` → `healthy`/`unhealthy`), the failing streak and the last 5 results in the container's
 * record; emits `health_status: …` events on changes. Exits when the run it was started for has ended.
 *
 *   node health-monitor.js <state dir> <run dir> <container id> <generation>
 */
import { runHealthMonitor } from './health.js';

const [root, run, id, gen] = process.argv.slice(2);
if (root && run && id && gen) {
  runHealthMonitor(root, run, id, Number(gen)).catch((e: unknown) => {
    process.stderr.write(`tscompose health monitor: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}

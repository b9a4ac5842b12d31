/**
 * Running a process in a running native container (`exec`, healthchecks): `<oci> exec --process <json> <id>` in
 * the foreground, its stdio on our pipes. The runtime's own errors go to a log file, so the process's stderr
 * stays clean; a command that cannot be started gives Docker's codes: 127 (not found) and 126 (not executable).
 * With a TTY the process runs under conmon instead, which holds its terminal (./exec-tty.ts).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { ExecSpec } from '../runtime.js';
import { execProcess } from './oci/oci-runtime.js';
import { ociSpecToJson } from './oci/oci-spec.js';
import { signalNumber } from './oci/signals.js';
import type { ContainerRecord } from './state.js';
import type { NativeContext } from './context.js';
import { ociSpecOf } from './monitor/record.js';
import { rootfsDir } from './rootfs.js';
import { resolveUser } from './user.js';
import { signalExecProcess, startFailureCode, type ExecChild } from './exec-child.js';

export type { ExecChild } from './exec-child.js';

export async function spawnExec(
  ctx: NativeContext,
  r: ContainerRecord,
  spec: ExecSpec,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<ExecChild> {
  const oci = await ociSpecOf(ctx, r.id);
  const user = spec.user ? await resolveUser(rootfsDir(ctx, r.id), spec.user) : undefined;
  const tty = spec.tty === true;
  const proc = execProcess(oci, { cmd: spec.cmd, env: spec.env, user, cwd: spec.workdir, tty, privileged: spec.privileged });
  const dir = path.join(ctx.paths.run, r.id.slice(0, 12));
  await fs.mkdir(dir, { recursive: true });
  const tag = randomBytes(6).toString('hex');
  if (spec.detach) {
    const files = {
      procFile: path.join(dir, `exec-${tag}.json`),
      logFile: path.join(dir, `exec-${tag}.log`),
      pidFile: path.join(dir, `exec-${tag}.pid`),
    };
    await fs.writeFile(files.procFile, ociSpecToJson(proc));
    const { startDetachedExec } = await import('./exec-detached.js');
    return startDetachedExec(ctx, r, files);
  }
  if (tty) {
    const execDir = path.join(dir, `exec-${tag}`);
    await fs.mkdir(execDir, { recursive: true });
    const procFile = path.join(execDir, 'process.json');
    await fs.writeFile(procFile, ociSpecToJson(proc));
    const { spawnTerminalExec } = await import('./exec-tty.js');
    return spawnTerminalExec(ctx, r, spec, { dir: execDir, procFile, tag }, options);
  }
  const procFile = path.join(dir, `exec-${tag}.json`);
  const logFile = path.join(dir, `exec-${tag}.log`);
  const pidFile = path.join(dir, `exec-${tag}.pid`);
  await fs.writeFile(procFile, ociSpecToJson(proc));
  const rt = ctx.oci.forContainer(r.id); // the runtime that made the container (runc or crun), which may not be today's choice
  const child = spawn(
    rt.exe, // from its read-only mount, where it skips its own copy of itself (./oci/runtime-binary.ts)
    rt.execArgs(r.id, procFile, { pidFile, logFile }),
    {
      env: rt.spawnEnv(),
      // stdin is always a pipe of ours, closed at once when there is no input: given the host's /dev/null (what
      // 'ignore' opens), crun chowns it to the exec'd process's user, and the host's /dev/null then belongs to
      // nobody (runc skips /dev/null; crun 1.8 does not).
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  child.stdin?.on('error', () => undefined);
  if (spec.stdin && child.stdin) spec.stdin.pipe(child.stdin);
  else child.stdin?.end();
  const exit = new Promise<number>((resolve) => {
    child.on('error', () => resolve(126));
    child.on('close', (code, sig) => {
      if (spec.stdin && child.stdin) spec.stdin.unpipe(child.stdin); // the process has ended: no more of the input is read
      void (async () => {
        const log = await fs.readFile(logFile, 'utf8').catch(() => '');
        await fs.rm(procFile, { force: true });
        await fs.rm(logFile, { force: true });
        await fs.rm(pidFile, { force: true });
        if (code === 255) {
          const c = startFailureCode(log);
          if (c !== undefined) return resolve(c);
        }
        resolve(code ?? (sig ? 128 + signalNumber(sig) : 1));
      })();
    });
  });
  const kill = (s?: NodeJS.Signals): void => {
    if (signalExecProcess(pidFile, s ?? 'SIGKILL') !== 'sent') child.kill(s ?? 'SIGKILL');
  };
  return { stdout: child.stdout!, stderr: child.stderr!, exit, kill };
}

/** Runs to completion, collecting output (at most `maxBytes` of each stream). Kills the process after `timeoutMs`. */
export async function execBuffered(
  ctx: NativeContext,
  r: ContainerRecord,
  spec: ExecSpec,
  options: { signal?: AbortSignal | undefined; timeoutMs?: number; maxBytes?: number } = {},
): Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }> {
  const child = await spawnExec(ctx, r, spec, options);
  const max = options.maxBytes ?? 64 * 1024 * 1024;
  const collect = (s: Readable): Promise<string> =>
    new Promise((resolve) => {
      const parts: Buffer[] = [];
      let n = 0;
      s.on('data', (d: Buffer) => {
        if (n < max) parts.push(d.subarray(0, max - n));
        n += d.length;
      });
      s.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      s.on('error', () => resolve(Buffer.concat(parts).toString('utf8')));
    });
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs);
  const [stdout, stderr, exitCode] = await Promise.all([collect(child.stdout), collect(child.stderr), child.exit]);
  if (timer) clearTimeout(timer);
  return { exitCode, stdout, stderr, timedOut };
}

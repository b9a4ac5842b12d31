/**
 * Native containers' input and output: exec (./exec.ts, loaded on first use), logs (conmon's log file,
 * ./logs.ts), the runtime's events (`<state>/events.jsonl`) and copies into and out of a container (tar).
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import { ConflictError, LogsNotReadableError, NotFoundError } from '../errors.js';
import {
  matchesLabels,
  type CallOptions,
  type EventsOptions,
  type ExecResult,
  type ExecSession,
  type ExecSpec,
  type LogLine,
  type LogsOptions,
  type RuntimeEvent,
} from '../runtime.js';
import type { ContainerService } from './containers.js';
import type { NativeContext } from './context.js';
import { logPolicy } from './log-files.js';
import { readContainerLogs, tailJsonLines } from './logs.js';
import { liveStatus } from './monitor/record.js';
import { mountRootfs, rootfsDir } from './rootfs.js';
import { secureJoin } from './secure-path.js';
import type { ContainerRecord } from './state.js';

export class ContainerIo {
  constructor(
    private readonly ctx: NativeContext,
    private readonly containers: ContainerService,
  ) {}

  async exec(idOrName: string, spec: ExecSpec, options: CallOptions = {}): Promise<ExecResult> {
    const r = await this.containers.running(idOrName);
    const { execBuffered } = await import('./exec.js');
    const out = await execBuffered(this.ctx, r, spec, { signal: options.signal });
    return { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr };
  }

  async execStream(idOrName: string, spec: ExecSpec, options: CallOptions = {}): Promise<ExecSession> {
    const r = await this.containers.running(idOrName);
    const { spawnExec } = await import('./exec.js');
    const child = await spawnExec(this.ctx, r, spec, { signal: options.signal });
    const resize = child.resize?.bind(child);
    return {
      stdout: child.stdout,
      stderr: child.stderr,
      wait: () => child.exit,
      ...(resize ? { resize: (size: { readonly rows: number; readonly columns: number }) => Promise.resolve(resize(size)) } : {}),
    };
  }

  async *logs(idOrName: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    const r = await this.containers.record(idOrName);
    const ctx = this.ctx;
    if (logPolicy(r.spec.logging).store === 'none') throw new LogsNotReadableError(r.name);
    // A follow ends with the run it began in, as Docker's does: a restart quicker than its poll (the restart policy)
    // must not make one stream of two runs, or the follower never sees the exit between them.
    const run = r.state.pid;
    yield* readContainerLogs(ctx.state.logFile(r.id), options, {
      active: async () => {
        const cur = await ctx.state.read(r.id);
        if (!cur || cur.state.pid !== run) return false;
        const s = await liveStatus(ctx, cur);
        return s === 'running' || s === 'paused';
      },
    });
  }

  async *events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    const since = options.since === undefined ? undefined : options.since * 1000;
    const until = options.until === undefined ? undefined : options.until * 1000;
    let done = false;
    for await (const e of tailJsonLines<RuntimeEvent>(this.ctx.paths.events, {
      fromStart: since !== undefined,
      signal: options.signal,
      stop: () => done || (until !== undefined && Date.now() > until),
    })) {
      if (since !== undefined && e.time < since) continue;
      if (until !== undefined && e.time > until) {
        done = true;
        continue;
      }
      if (options.types && !options.types.includes(e.type)) continue;
      if (!matchesLabels(e.attributes, options.labels)) continue;
      yield e;
    }
  }

  private async pathInContainer(r: ContainerRecord, p: string): Promise<string> {
    const ctx = this.ctx;
    const s = await this.containers.status(r);
    if ((s === 'running' || s === 'paused') && r.state.pid !== undefined) {
      // Through the container's own mount namespace, so its bind mounts (/etc/hostname, volumes) are seen;
      // secureJoin resolves every symlink inside that root.
      return secureJoin(`/proc/${r.state.pid}/root`, p);
    }
    const images = await ctx.images();
    const image = await images.resolve(r.imageId);
    if (image) await mountRootfs(ctx, r.id, images.overlayLowerdir(image));
    return secureJoin(rootfsDir(ctx, r.id), p);
  }

  async copyTo(idOrName: string, p: string, tar: Readable): Promise<void> {
    const r = await this.containers.record(idOrName);
    const target = await this.pathInContainer(r, p);
    const st = await fs.stat(target).catch(() => undefined);
    if (!st) throw new NotFoundError('container', `${r.name}:${p}`, { hint: `no such directory in the container: ${p}` });
    if (!st.isDirectory()) throw new ConflictError('container', r.name, `${p} is not a directory`);
    await new Promise<void>((resolve, reject) => {
      const child = spawn('tar', ['-x', '--no-overwrite-dir', '-C', target, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new TsComposeError('TSC_NATIVE_CP', `copying into ${r.name}:${p} failed: ${err.trim()}`)),
      );
      tar.pipe(child.stdin!);
      child.stdin!.on('error', () => undefined);
    });
  }

  async copyFrom(idOrName: string, p: string): Promise<Readable> {
    const r = await this.containers.record(idOrName);
    const source = await this.pathInContainer(r, p);
    if (!(await fs.lstat(source).catch(() => undefined)))
      throw new NotFoundError('container', `${r.name}:${p}`, { hint: `no such file or directory in the container: ${p}` });
    const child = spawn('tar', ['-c', '-C', path.dirname(source), '-f', '-', path.basename(source)], { stdio: ['ignore', 'pipe', 'ignore'] });
    const out = new PassThrough();
    child.stdout!.pipe(out);
    child.on('error', (e) => out.destroy(e));
    return out;
  }
}

/**
 * Processes started by a small helper instead of by the calling (large) Node process.
 *
 * libuv starts a child with fork + exec; forking a Node process of ~100 MB costs its main thread 10–25 ms on a
 * 2-core VM (the page tables are copied), and the CLI starts one `mount` and one `conmon` per container: most of a
 * native `up`'s CPU was those forks. A Spawner starts one `/bin/sh` once and hands it each command as a line on
 * its stdin; sh (a few hundred KB) forks it in well under a millisecond and reports `ID STATUS` on its stdout
 * when it ended. Jobs run concurrently (each in a background subshell). Output, when wanted, goes to files in a
 * private temporary directory (in memory where it can: ../fs/scratch-dir.ts), read once the job ended; with
 * `output: 'ignore'` to /dev/null.
 *
 * The helper never keeps the process alive on its own: it is unref'd while no job is pending, and it exits when
 * its stdin closes (the process ended), removing its temporary directory. Commands whose arguments contain a newline (the line protocol cannot
 * carry them), and every command after the helper failed to start, are spawned directly as before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { scratchDir } from '../fs/scratch-dir.js';

export interface HelperJob {
  readonly command: string;
  readonly args: readonly string[];
  /** Variables set for this command on top of the helper's environment. */
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly cwd?: string | undefined;
  /** `capture` (default) returns stdout and stderr; `ignore` sends both to /dev/null. */
  readonly output?: 'capture' | 'ignore' | undefined;
  /** Fed on stdin (through a file; the command reads /dev/null otherwise). Implies `capture`. */
  readonly input?: string | undefined;
}

/** A command that outlives the caller: started in the background, its output appended to a file. */
export interface DetachedJob {
  readonly command: string;
  readonly args: readonly string[];
  /** Variables set for it on top of the helper's environment (an empty string stands for unset where that is alike). */
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly cwd?: string | undefined;
  /** Where its stdout and stderr are appended (default /dev/null). */
  readonly log?: string | undefined;
}

export interface HelperResult {
  /** The exit status; 128 + N when killed by signal N (as sh reports it); 127 when not found. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * One line per job: `ID COMMAND-LINE`; each runs in a background subshell that reports `ID STATUS`. When its stdin
 * closes (the process ended, however: also a SIGKILL), the shell waits for its jobs and removes the output directory.
 */
const SERVER = `d=$1
while IFS= read -r line; do
  id=\${line%% *}
  cmd=\${line#* }
  case $id in
  i*) ( eval "$cmd" </dev/null >/dev/null 2>&1; echo "$id $?" ) & ;;
  n*) ( eval "$cmd" <"$d/$id.i" >"$d/$id.o" 2>"$d/$id.e"; echo "$id $?" ) & ;;
  *) ( eval "$cmd" </dev/null >"$d/$id.o" 2>"$d/$id.e"; echo "$id $?" ) & ;;
  esac
done
wait
rm -rf "$d"
`;

/** `word` quoted for sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

interface Pending {
  readonly capture: boolean;
  readonly resolve: (r: HelperResult) => void;
  readonly reject: (e: Error) => void;
}

export class Spawner {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  private failed = false;
  private next = 0;
  private buffer = '';
  private readonly pending = new Map<string, Pending>();

  private readonly env: NodeJS.ProcessEnv;

  /** `direct`: spawn every command from this process (no helper), as a fallback and for comparisons. */
  constructor(env: NodeJS.ProcessEnv = process.env, options: { direct?: boolean } = {}) {
    this.env = env;
    this.failed = options.direct === true;
  }

  /** Runs a command to its end (through the helper when possible). Never rejects for a non-zero status. */
  run(job: HelperJob): Promise<HelperResult> {
    const words = [job.command, ...job.args, ...Object.entries(job.env ?? {}).flat(), job.cwd ?? ''];
    if (this.failed || words.some((w) => w.includes('\n') || w.includes('\0'))) return direct(job, this.env);
    const child = this.helper();
    if (!child) return direct(job, this.env);
    const capture = job.output !== 'ignore' || job.input !== undefined;
    const id = `${job.input !== undefined ? 'n' : capture ? 'c' : 'i'}${++this.next}`;
    if (job.input !== undefined && this.dir) writeFileSync(path.join(this.dir, `${id}.i`), job.input, { mode: 0o600 });
    const assignments = Object.entries(job.env ?? {}).map(([k, v]) => `${k}=${shellQuote(v)} `);
    const line = `${job.cwd ? `cd ${shellQuote(job.cwd)} && ` : ''}${assignments.join('')}${[job.command, ...job.args].map(shellQuote).join(' ')}`;
    return new Promise<HelperResult>((resolve, reject) => {
      this.pending.set(id, { capture, resolve, reject });
      if (this.pending.size === 1) this.ref(true);
      child.stdin?.write(`${id} ${line}\n`);
    });
  }

  /**
   * Starts a command in the background that outlives this process (a daemon: stdin /dev/null, its own session when
   * spawned directly, else the helper's, which is not the terminal's) and resolves to its pid, or undefined when it
   * could not be started. Through the helper no fork of this process is made; the pid may still be the helper's
   * shell for a moment, until it has exec'd the command.
   */
  async startDetached(job: DetachedJob): Promise<number | undefined> {
    const log = job.log ?? '/dev/null';
    if (!this.failed && this.helper()) {
      const r = await this.run({
        command: '/bin/sh',
        args: ['-c', '"$@" </dev/null >>"$0" 2>&1 & echo $!', log, job.command, ...job.args],
        env: job.env,
        cwd: job.cwd,
      }).catch(() => undefined);
      const pid = r?.code === 0 ? Number.parseInt(r.stdout.trim(), 10) : Number.NaN;
      if (Number.isInteger(pid) && pid > 0) return pid;
      if (r !== undefined) return undefined;
    }
    return detachedDirect(job, log, this.env);
  }

  /** Ends the helper (pending jobs keep running; their results are lost). */
  close(): void {
    this.child?.stdin?.end();
    this.child = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private helper(): ChildProcess | undefined {
    if (this.child) return this.child;
    try {
      this.dir = mkdtempSync(path.join(scratchDir(), 'tscompose-spawner-'));
      const child = spawn('/bin/sh', ['-c', SERVER, 'tscompose-spawner', this.dir], {
        stdio: ['pipe', 'pipe', 'ignore'],
        env: this.env,
        detached: true, // its own process group: a Ctrl-C meant for the CLI does not reach a conmon being started
      });
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (d: string) => this.onData(d));
      child.once('error', () => this.fail(new Error('the helper shell could not start')));
      child.once('exit', () => this.fail(new Error('the helper shell ended')));
      child.stdin?.on('error', () => undefined);
      this.child = child;
      this.ref(false);
      process.once('exit', () => this.close());
      return child;
    } catch {
      this.failed = true;
      return undefined;
    }
  }

  private ref(on: boolean): void {
    const c = this.child as (ChildProcess & { stdout: { ref?(): void; unref?(): void } | null }) | undefined;
    if (!c) return;
    for (const h of [c, c.stdout, c.stdin] as ({ ref?(): void; unref?(): void } | null)[]) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }

  private onData(d: string): void {
    this.buffer += d;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const [id = '', status = ''] = line.split(' ');
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (this.pending.size === 0) this.ref(false);
      let stdout = '';
      let stderr = '';
      if (p.capture && this.dir) {
        const o = path.join(this.dir, `${id}.o`);
        const e = path.join(this.dir, `${id}.e`);
        stdout = readIfAny(o);
        stderr = readIfAny(e);
        rmSync(o, { force: true });
        rmSync(e, { force: true });
        if (id.startsWith('n')) rmSync(path.join(this.dir, `${id}.i`), { force: true });
      }
      p.resolve({ code: Number(status), stdout, stderr });
    }
  }

  private fail(e: Error): void {
    this.failed = true;
    this.child = undefined;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

function readIfAny(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The same job spawned by this process. */
function direct(job: HelperJob, env: NodeJS.ProcessEnv): Promise<HelperResult> {
  return new Promise((resolve) => {
    const capture = job.output !== 'ignore' || job.input !== undefined;
    const child = spawn(job.command, [...job.args], {
      stdio: [job.input === undefined ? 'ignore' : 'pipe', capture ? 'pipe' : 'ignore', capture ? 'pipe' : 'ignore'],
      env: { ...env, ...job.env },
      ...(job.cwd ? { cwd: job.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (e) => resolve({ code: 127, stdout, stderr: stderr + e.message }));
    child.once('close', (code, signal) => resolve({ code: code ?? 128 + (signal ? signalNumber(signal) : 0), stdout, stderr }));
    if (job.input !== undefined) {
      child.stdin?.on('error', () => undefined); // EPIPE when the command exits early: its status tells
      child.stdin?.end(job.input);
    }
  });
}

/** The same daemon spawned by this process (the fallback): a fork of this process. */
function detachedDirect(job: DetachedJob, log: string, env: NodeJS.ProcessEnv): number | undefined {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(job.command, [...job.args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...env, ...job.env },
      ...(job.cwd ? { cwd: job.cwd } : {}),
    });
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

function signalNumber(sig: NodeJS.Signals): number {
  return osConstants.signals[sig] ?? 0;
}

let shared: Spawner | undefined;

/**
 * The process's one helper for the process environment (lib/net's tools, the native runtime's mounts and conmon):
 * one fork of this process for all of them. TSCOMPOSE_SPAWNER=0 spawns every command directly.
 */
export function sharedSpawner(): Spawner {
  shared ??= new Spawner(process.env, { direct: process.env.TSCOMPOSE_SPAWNER === '0' });
  return shared;
}

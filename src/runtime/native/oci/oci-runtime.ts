/**
 * The OCI runtime binary (runc or crun): argv builders for its commands, and small async runners for the
 * short-lived ones (state, start, kill, delete, pause, resume, ps). Which one this host uses: ./oci-choice.ts
 * (re-exported here); a command about an existing container goes to the runtime that made it (`forContainer`).
 *
 * Pitfall (native-runtime notes §4.2): a container process inherits the stdio of `create`/`run --detach`/`exec
 * --detach`; waiting for EOF on a pipe it holds hangs until the container exits. The runners here therefore give
 * the runtime `ignore` or a file for stdout/stderr whenever a container process could inherit them (create, start,
 * run), and pipes only for commands that never hand fds to a container (state, kill, delete, pause, resume, ps).
 * `create` itself belongs to conmon (it owns the container's stdio); `createArgs` is here for it.
 */
import { execFile, spawn, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { TsComposeError } from '../../../errors.js';
import { scratchDir } from '../../../lib/fs/scratch-dir.js';
import { ociRuntimeNameOf, ociStateKind, whichSync, type OciRuntimeName } from './oci-choice.js';
import { fastDeleteStopped, fastKill } from './oci-fast.js';
import { CLONED_BINARY_ENV, protectedBinaryPath } from './runtime-binary.js';
import { currentCapabilities, replaceOrAppendEnv, withTtyTerm } from './process.js';
import { normalizeSignal } from './signals.js';
import type { OciProcess, OciSpec, OciUser } from './spec-types.js';

export {
  chooseOciRuntime,
  defaultOciRuntimeProbe,
  ociRuntimeNameOf,
  ociStateKind,
  whichSync,
  type OciRuntimeChoice,
  type OciRuntimeName,
  type OciRuntimeProbe,
} from './oci-choice.js';

// ---------------------------------------------------------------------------------------------------------------

/** `runtime state` output (runtime-spec state + runc/crun extras). */
export interface OciState {
  readonly ociVersion: string;
  readonly id: string;
  readonly status: 'creating' | 'created' | 'running' | 'stopped' | 'paused';
  readonly pid?: number;
  readonly bundle: string;
  readonly rootfs?: string;
  readonly created?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface OciRuntimeOptions {
  /** `--log <file>` for the runtime's own messages. */
  readonly logFile?: string;
  readonly logFormat?: 'text' | 'json';
  /** `--systemd-cgroup` (cgroupsPath then has the `slice:prefix:name` form). */
  readonly systemdCgroup?: boolean;
  /** Always spawn the runtime for kill and delete (see oci-fast.ts). */
  readonly noFastPaths?: boolean;
  /** Timeout for the short commands, default 60 s. */
  readonly timeoutMs?: number;
  /** The other runtimes' binaries for `forContainer` (default: found on PATH when first needed). */
  readonly binaries?: Partial<Record<OciRuntimeName, string>>;
  /**
   * Launch the binary from its read-only bind mount in this directory (./runtime-binary.ts), so that it skips its
   * own per-invocation protection; default: launched as it is.
   */
  readonly protectedBinaryDir?: string;
}

export interface CreateOptions {
  readonly pidFile?: string;
  readonly consoleSocket?: string;
  readonly noPivot?: boolean;
  readonly preserveFds?: number;
}

export interface ExecOptions {
  readonly detach?: boolean;
  readonly pidFile?: string;
  readonly consoleSocket?: string;
  readonly preserveFds?: number;
  /** This exec's own log (`--log FILE --log-format json`), in place of the runtime's: the caller reads its errors. */
  readonly logFile?: string;
}

export interface RunOptions extends CreateOptions {
  readonly detach?: boolean;
}

/** Where a foreground `run` writes: a file path, or an open fd, or `ignore`. Never a pipe (see module comment). */
export type OutputTarget = string | number | 'ignore';

/** An OCI runtime command failed. */
export class OciRuntimeError extends TsComposeError {
  readonly command: string;
  readonly stderr: string;
  /** The runtime's exit status (null when it did not run or was killed). */
  readonly status: number | null;
  constructor(command: string, detail: string, stderr: string, status: number | null) {
    super('TSC_OCI_RUNTIME', `${command}: ${detail}`);
    this.command = command;
    this.stderr = stderr;
    this.status = status;
  }
}

/** The message of runc's `level=error msg="…"` lines (or crun's plain text), for errors. */
export function runtimeErrorMessage(stderr: string): string {
  const msgs: string[] = [];
  for (const line of stderr.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    if (t.startsWith('{')) {
      try {
        const j = JSON.parse(t) as { msg?: string; level?: string };
        if (j.msg && (j.level === undefined || j.level === 'error' || j.level === 'fatal')) msgs.push(j.msg);
        continue;
      } catch {
        // not JSON
      }
    }
    const m = /level=(\w+)\s+msg="((?:[^"\\]|\\.)*)"/.exec(t);
    if (m) {
      if (m[1] === 'error' || m[1] === 'fatal') msgs.push((m[2] ?? '').replace(/\\(.)/g, '$1'));
      continue;
    }
    msgs.push(t);
  }
  return msgs.join('; ') || 'failed';
}

const NOT_FOUND_RE = /container does not exist|does not exist|No such file or directory|not found/i;

export class OciRuntime {
  readonly binary: string;
  /** `--root`: the runtime's state directory. */
  readonly root: string;
  readonly options: OciRuntimeOptions;

  constructor(binary: string, root: string, options: OciRuntimeOptions = {}) {
    this.binary = binary;
    this.root = root;
    this.options = options;
  }

  /** `runc` or `crun`, from the binary name. */
  get name(): OciRuntimeName {
    return ociRuntimeNameOf(this.binary);
  }

  private readonly others = new Map<OciRuntimeName, OciRuntime>();

  /**
   * The runtime for commands about container `id`: the one whose state `<root>/<id>` is (ociStateKind), when that
   * is the other runtime and it is installed; this one otherwise (its own container, or none yet). So containers
   * made by runc before crun became usable (or the reverse) are still stopped and removed by runc.
   */
  forContainer(id: string): OciRuntime {
    if (existsSync(path.join(this.root, path.basename(id), this.name === 'runc' ? 'state.json' : 'status'))) return this;
    const kind = ociStateKind(this.root, id);
    if (kind === undefined || kind === this.name) return this;
    let other = this.others.get(kind);
    if (!other) {
      const binary = this.options.binaries?.[kind] ?? whichSync(kind);
      if (!binary) return this;
      other = new OciRuntime(binary, this.root, this.options);
      this.others.set(kind, other);
    }
    return other;
  }

  private exeCache: string | undefined;

  /**
   * What to execute to run this runtime: `binary`, or its read-only bind mount (`protectedBinaryDir`), which then
   * needs `launchEnv` in the runtime's environment.
   */
  get exe(): string {
    const dir = this.options.protectedBinaryDir;
    this.exeCache ??= dir === undefined ? this.binary : protectedBinaryPath(this.binary, dir);
    return this.exeCache;
  }

  /** The variables a launch of `exe` adds to the environment (none when it is the binary itself). */
  get launchEnv(): Readonly<Record<string, string>> {
    return this.exe === this.binary ? {} : CLONED_BINARY_ENV;
  }

  /** process.env with `launchEnv`, or undefined (inherit) when that adds nothing: for a spawn of `exe`. */
  spawnEnv(): NodeJS.ProcessEnv | undefined {
    const add = this.launchEnv;
    return Object.keys(add).length === 0 ? undefined : { ...process.env, ...add };
  }

  // --- argv builders (without the binary itself) -------------------------------------------------------------

  globalArgs(log?: { readonly file: string; readonly format: string }): string[] {
    const a = ['--root', this.root];
    const file = log?.file ?? this.options.logFile;
    const format = log?.format ?? this.options.logFormat;
    if (file) a.push('--log', file);
    if (format) a.push('--log-format', format);
    if (this.options.systemdCgroup) a.push('--systemd-cgroup');
    return a;
  }

  createArgs(id: string, bundle: string, opts: CreateOptions = {}): string[] {
    return [...this.globalArgs(), 'create', '--bundle', bundle, ...this.createFlags(opts), id];
  }

  /** `run` = create + start (+ wait and delete in the foreground). */
  runArgs(id: string, bundle: string, opts: RunOptions = {}): string[] {
    return [...this.globalArgs(), 'run', '--bundle', bundle, ...(opts.detach ? ['--detach'] : []), ...this.createFlags(opts), id];
  }

  private createFlags(opts: CreateOptions): string[] {
    const a: string[] = [];
    if (opts.pidFile) a.push('--pid-file', opts.pidFile);
    if (opts.consoleSocket) a.push('--console-socket', opts.consoleSocket);
    if (opts.noPivot) a.push('--no-pivot');
    if (opts.preserveFds) a.push('--preserve-fds', String(opts.preserveFds));
    return a;
  }

  startArgs(id: string): string[] {
    return [...this.globalArgs(), 'start', id];
  }

  stateArgs(id: string): string[] {
    return [...this.globalArgs(), 'state', id];
  }

  /** `kill [--all] ID SIGNAME`; the signal is normalized (`term`, `15` → `SIGTERM`). */
  killArgs(id: string, signal: string | number = 'SIGTERM', all = false): string[] {
    return [...this.globalArgs(), 'kill', ...(all ? ['--all'] : []), id, normalizeSignal(signal)];
  }

  deleteArgs(id: string, force = false): string[] {
    return [...this.globalArgs(), 'delete', ...(force ? ['--force'] : []), id];
  }

  pauseArgs(id: string): string[] {
    return [...this.globalArgs(), 'pause', id];
  }

  resumeArgs(id: string): string[] {
    return [...this.globalArgs(), 'resume', id];
  }

  psArgs(id: string): string[] {
    return [...this.globalArgs(), 'ps', '--format', 'json', id];
  }

  execArgs(id: string, processJsonPath: string, opts: ExecOptions = {}): string[] {
    const a = [
      ...this.globalArgs(opts.logFile === undefined ? undefined : { file: opts.logFile, format: 'json' }),
      'exec',
      '--process',
      processJsonPath,
    ];
    if (opts.detach) a.push('--detach');
    if (opts.pidFile) a.push('--pid-file', opts.pidFile);
    if (opts.consoleSocket) a.push('--console-socket', opts.consoleSocket);
    if (opts.preserveFds) a.push('--preserve-fds', String(opts.preserveFds));
    a.push(id);
    return a;
  }

  // --- runners -----------------------------------------------------------------------------------------------

  /** Runs a command that never hands fds to a container; resolves with stdout. */
  private piped(args: string[]): Promise<string> {
    const what = `${this.name} ${args[this.globalArgs().length] ?? ''}`.trim();
    return new Promise((resolve, reject) => {
      execFile(
        this.exe,
        args,
        {
          encoding: 'utf8',
          timeout: this.options.timeoutMs ?? 60_000,
          maxBuffer: 16 * 1024 * 1024,
          killSignal: 'SIGKILL',
          env: this.spawnEnv(),
        },
        (err, stdout, stderr) => {
          if (err) {
            const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
            reject(new OciRuntimeError(`${what} ${args.at(-1) ?? ''}`.trim(), runtimeErrorMessage(stderr || err.message), stderr, code));
          } else resolve(stdout);
        },
      );
    });
  }

  /**
   * Runs a command whose stdio a container process may inherit: stdin an ended pipe, stdout to a file (a temporary
   * one for `ignore`), stderr to a temporary file read after exit (no output pipe to wait on).
   */
  private async fileStdio(
    args: string[],
    stdout: OutputTarget = 'ignore',
    stderrTo?: OutputTarget,
  ): Promise<{ code: number | null; stderr: string }> {
    const what = `${this.name} ${args[this.globalArgs().length] ?? ''}`.trim();
    const opened: number[] = [];
    const temp = (ext: string): string => path.join(scratchDir(), `tscompose-oci-${process.pid}-${Math.random().toString(36).slice(2)}.${ext}`);
    // Never the host's /dev/null (what 'ignore' opens) as a stream a container may inherit: crun 1.8 chowns a
    // container's standard streams to its root. Discarded output goes to a temporary file, stdin is an ended pipe.
    const outFile = stdout === 'ignore' ? temp('out') : undefined;
    const open = (t: OutputTarget): number => {
      if (typeof t === 'number') return t;
      const fd = openSync(t === 'ignore' ? (outFile as string) : t, 'a');
      opened.push(fd);
      return fd;
    };
    const errFile = stderrTo === undefined ? temp('err') : undefined;
    try {
      const errFd = errFile ? open(errFile) : open(stderrTo as OutputTarget);
      const stdio: StdioOptions = ['pipe', open(stdout), errFd];
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(this.exe, args, { stdio, env: this.spawnEnv() });
        child.stdin?.on('error', () => undefined);
        child.stdin?.end();
        child.once('error', reject);
        child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 + signalNo(sig) : null)));
      });
      const stderr = errFile ? readFileSync(errFile, 'utf8') : '';
      return { code, stderr };
    } catch (err) {
      throw new OciRuntimeError(`${what} ${args.at(-1) ?? ''}`.trim(), (err as Error).message, '', null);
    } finally {
      for (const fd of opened) closeSync(fd);
      for (const f of [errFile, outFile]) {
        if (f === undefined) continue;
        try {
          unlinkSync(f);
        } catch {
          // already gone
        }
      }
    }
  }

  /** The container's state, or undefined when the runtime does not know it. */
  async state(id: string): Promise<OciState | undefined> {
    const rt = this.forContainer(id);
    if (rt !== this) return rt.state(id);
    try {
      return JSON.parse(await this.piped(this.stateArgs(id))) as OciState;
    } catch (err) {
      if (err instanceof OciRuntimeError && NOT_FOUND_RE.test(err.stderr || err.message)) return undefined;
      throw err;
    }
  }

  /** `start`: runs the created container's process (stdio: see the module comment). */
  async start(id: string): Promise<void> {
    const rt = this.forContainer(id);
    if (rt !== this) return rt.start(id);
    const r = await this.fileStdio(this.startArgs(id));
    if (r.code !== 0) throw new OciRuntimeError(`${this.name} start ${id}`, runtimeErrorMessage(r.stderr), r.stderr, r.code);
  }

  async kill(id: string, signal: string | number = 'SIGTERM', all = false): Promise<void> {
    const rt = this.forContainer(id);
    if (rt !== this) return rt.kill(id, signal, all);
    if (await this.killWithoutSpawn(id, signal, all)) return;
    await this.piped(this.killArgs(id, signal, all));
  }

  /** `kill` without spawning the runtime (oci-fast.ts); false when only the runtime can do it. */
  async killWithoutSpawn(id: string, signal: string | number, all = false): Promise<boolean> {
    const rt = this.forContainer(id);
    if (rt !== this) return rt.killWithoutSpawn(id, signal, all);
    if (!this.fastPaths) return false;
    const num = (osConstants.signals as Record<string, number | undefined>)[normalizeSignal(signal)];
    return num !== undefined && (await fastKill(this.root, id, num, all));
  }

  /** `delete [--force]`; for a container whose processes are gone, done without spawning runc (oci-fast.ts). */
  async delete(id: string, force = false): Promise<void> {
    const rt = this.forContainer(id);
    if (rt !== this) return rt.delete(id, force);
    if (this.fastPaths && (await fastDeleteStopped(this.root, id))) return;
    await this.piped(this.deleteArgs(id, force));
  }

  /** The runtime's state file is read directly for kill and delete (oci-fast.ts) unless `noFastPaths`. */
  private get fastPaths(): boolean {
    // With --systemd-cgroup the cgroups belong to a systemd unit, which only runc (over D-Bus) removes properly.
    return !this.options.noFastPaths && !this.options.systemdCgroup;
  }

  async pause(id: string): Promise<void> {
    const rt = this.forContainer(id);
    if (rt !== this) return rt.pause(id);
    await this.piped(this.pauseArgs(id));
  }

  async resume(id: string): Promise<void> {
    const rt = this.forContainer(id);
    if (rt !== this) return rt.resume(id);
    await this.piped(this.resumeArgs(id));
  }

  /** Host pids of the container's processes. */
  async ps(id: string): Promise<number[]> {
    const rt = this.forContainer(id);
    if (rt !== this) return rt.ps(id);
    const out = (await this.piped(this.psArgs(id))).trim();
    if (out === '' || out === 'null') return [];
    return (JSON.parse(out) as number[]).map(Number);
  }

  /**
   * Foreground `run` (create + start + wait + delete): resolves with the container's exit status. stdout/stderr go
   * to files/fds, never pipes. The runtime reaps the container (it is its subreaper) and deletes it on exit.
   */
  async run(id: string, bundle: string, io: { stdout?: OutputTarget; stderr?: OutputTarget } = {}, opts: CreateOptions = {}): Promise<number> {
    const r = await this.fileStdio(this.runArgs(id, bundle, opts), io.stdout ?? 'ignore', io.stderr);
    if (r.code === null) throw new OciRuntimeError(`${this.name} run ${id}`, 'no exit status', r.stderr, null);
    return r.code;
  }
}

function signalNo(sig: NodeJS.Signals): number {
  return osConstants.signals[sig] ?? 0;
}

// ---------------------------------------------------------------------------------------------------------------

export interface ExecProcessInput {
  readonly cmd: readonly string[];
  /** `KEY=value`, replacing the container's entries with the same key (Docker). */
  readonly env?: readonly string[] | undefined;
  readonly user?: { readonly uid: number; readonly gid: number; readonly additionalGids: readonly number[] } | undefined;
  readonly cwd?: string | undefined;
  readonly tty?: boolean | undefined;
  /** All capabilities (Docker `exec --privileged`). */
  readonly privileged?: boolean | undefined;
}

/**
 * The `process.json` for `runtime exec --process`: the container's process settings (env, capabilities, rlimits,
 * noNewPrivileges, user, cwd) with the exec's overrides.
 */
export function execProcess(spec: OciSpec, exec: ExecProcessInput): OciProcess {
  if (exec.cmd.length === 0) throw new TsComposeError('TSC_NO_COMMAND', 'no command specified');
  const base = spec.process;
  let user: OciUser;
  if (exec.user) {
    user = { uid: exec.user.uid, gid: exec.user.gid };
    if (exec.user.additionalGids.length > 0) user.additionalGids = [...exec.user.additionalGids];
  } else {
    user = { ...base.user, ...(base.user.additionalGids ? { additionalGids: [...base.user.additionalGids] } : {}) };
  }
  const proc: OciProcess = {
    terminal: exec.tty === true,
    user,
    args: [...exec.cmd],
    env: replaceOrAppendEnv(exec.tty === true ? withTtyTerm(base.env) : base.env, exec.env ?? []),
    cwd: exec.cwd || base.cwd,
  };
  if (exec.privileged) {
    // as a privileged container: the capabilities this process has (a sandbox may lack some; runc refuses those)
    const all = [...currentCapabilities()];
    proc.capabilities = { bounding: all, effective: [...all], permitted: [...all] };
  } else if (base.capabilities) {
    const c = base.capabilities;
    proc.capabilities = {
      bounding: [...c.bounding],
      effective: [...c.effective],
      permitted: [...c.permitted],
      ...(c.inheritable ? { inheritable: [...c.inheritable] } : {}),
      ...(c.ambient ? { ambient: [...c.ambient] } : {}),
    };
  }
  if (base.rlimits) proc.rlimits = base.rlimits.map((r) => ({ ...r }));
  if (base.noNewPrivileges) proc.noNewPrivileges = true;
  if (base.apparmorProfile) proc.apparmorProfile = base.apparmorProfile;
  if (base.selinuxLabel) proc.selinuxLabel = base.selinuxLabel;
  if (base.oomScoreAdj !== undefined) proc.oomScoreAdj = base.oomScoreAdj;
  return proc;
}

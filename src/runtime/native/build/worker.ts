/**
 * The native builder's worker (lib/build/solver BuildWorker): a RUN step's process as a container of the OCI
 * runtime, run in the foreground (`runc run`) over the step's root filesystem, with the confinement of a service
 * container (the same OCI spec options: Docker's capabilities, masked and read-only paths, cgroup) and:
 * - the network: `default` a bridge of its own (`tscompose_build_<hash of the state dir>`, NAT out like a project
 *   network), its network namespaces reused by the build's later steps and released with the build (`close`), or
 *   `host`, or `none`;
 * - /etc/hosts (localhost, `buildkitsandbox`, compose `build.extra_hosts`) and /etc/resolv.conf (the host's
 *   nameservers, or the bridge's resolver when the host's are loopback ones), bind-mounted as Docker does;
 * - the step's mounts (cache directories, bind mounts of the context or another stage, secrets, tmpfs).
 * Mount points the runtime had to create in the rootfs are removed afterwards when still empty (BuildKit's mount
 * stubs cleaner): they are not the step's changes. Cancelling kills the container, and so does the CLI's death (a
 * `kill -9` included: lib/proc/tied-spawn.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pidAlive } from '../../../lib/fs/proc.js';
import { spawnTied } from '../../../lib/proc/tied-spawn.js';
import { isLoopback, parseResolvConf, resolvConfFor, hostsFileFor } from '../../../lib/dns/files.js';
import type { BuildWorker, RunRequest } from '../../../lib/build/solver/types.js';
import type { EndpointRecord, NetState } from '../../../lib/net/index.js';
import type { NativeContext } from '../context.js';
import { refreshDns } from '../netglue.js';
import { cgroupsPathFor } from '../oci/cgroups.js';
import { buildOciSpec, ociSpecToJson } from '../oci/oci-spec.js';
import type { OciMount, OciNetwork } from '../oci/spec-types.js';
import { resolveUser } from '../user.js';

/** The bridge RUN steps use by default: one per state directory (bridge names derive from the key). */
export function buildNetworkKey(stateRoot: string): string {
  return `tscompose_build_${createHash('sha256').update(stateRoot).digest('hex').slice(0, 8)}`;
}

/** Removes the build bridge when no step uses it (after a build; another build's step keeps it). */
export async function removeBuildNetwork(ctx: NativeContext): Promise<void> {
  const key = buildNetworkKey(ctx.paths.root);
  const state = await ctx.networks.read();
  if (state.networks[key] && Object.keys(state.networks[key].endpoints).length === 0) await ctx.networks.removeNetwork(key).catch(() => undefined);
}
const HOSTNAME = 'buildkitsandbox';

interface NetSlot {
  readonly id: string;
  readonly netnsPath: string;
  readonly nameservers: string[];
}

export class NativeBuildWorker implements BuildWorker {
  /** Network namespaces on the build bridge not in use by a step (reused, as BuildKit's netns pool). */
  private readonly idle: NetSlot[] = [];
  private readonly slots: NetSlot[] = [];
  private readonly networkKey: string;

  constructor(
    private readonly ctx: NativeContext,
    private readonly scratch: string,
  ) {
    this.networkKey = buildNetworkKey(ctx.paths.root);
  }

  async resolveUser(rootfs: string, user: string): Promise<{ uid: number; gid: number }> {
    const u = await resolveUser(rootfs, user === '' ? undefined : user);
    return { uid: u.uid, gid: u.gid };
  }

  /** A network namespace on the build bridge: an idle one, or a new endpoint. */
  private async acquire(): Promise<NetSlot> {
    const free = this.idle.pop();
    if (free) return free;
    const nets = this.ctx.networks;
    // random first: the network namespace is named after the id's first 12 characters; the pid after `b`
    const id = `${randomBytes(4).toString('hex')}b${process.pid}`;
    let state = await this.releaseStale();
    let ep: EndpointRecord;
    for (let attempt = 1; ; attempt++) {
      // Not recorded, or not (or no longer) whole: a build killed while making or removing the bridge left the record.
      const net = state.networks[this.networkKey];
      if (!net || net.ready !== true || !existsSync(`/sys/class/net/${net.bridge}`)) {
        await nets.createNetwork({ key: this.networkKey, name: this.networkKey, labels: { 'io.tscompose.build': 'true' } });
      }
      try {
        ep = await nets.connect({ network: this.networkKey, endpointId: id, aliases: [], owner: 'build' });
        break;
      } catch (e) {
        // Another build's end removed the unused bridge between the check above and the connect (a compose file's
        // images build at once): made again. Any other failure stands.
        state = await nets.read();
        if (attempt >= 3 || state.networks[this.networkKey]?.ready === true) throw e;
      }
    }
    const host = parseResolvConf(await readFile('/etc/resolv.conf', 'utf8').catch(() => '')).nameservers.filter((ns) => !isLoopback(ns));
    let nameservers = host;
    if (host.length === 0) {
      await refreshDns(this.ctx.paths, [this.networkKey], { wait: true });
      nameservers = [ep.gateway];
    }
    const slot = { id, netnsPath: `/run/netns/${ep.netns}`, nameservers };
    this.slots.push(slot);
    return slot;
  }

  /** Releases the endpoints of builds whose process is gone (killed mid-build); returns the network state read. */
  private async releaseStale(): Promise<NetState> {
    const nets = this.ctx.networks;
    const state = await nets.read();
    const stale = Object.keys(state.networks[this.networkKey]?.endpoints ?? {}).filter((id) => {
      const pid = Number(/^[0-9a-f]{8}b(\d+)$/.exec(id)?.[1]);
      return pid > 0 && pid !== process.pid && !pidAlive(pid);
    });
    if (stale.length > 0) await nets.releaseContainers(stale.map((endpointId) => ({ endpointId }))).catch(() => undefined);
    return state;
  }

  /**
   * Releases the build's endpoints and, when no other build uses it, the bridge: also one a killed build left
   * behind when this build needed no network (every RUN step cached).
   */
  async close(): Promise<void> {
    const nets = this.ctx.networks;
    if (this.slots.length > 0) {
      await nets.releaseContainers(this.slots.map((s) => ({ endpointId: s.id }))).catch(() => undefined);
      await refreshDns(this.ctx.paths, [this.networkKey]).catch(() => undefined);
    }
    const used = this.slots.length > 0;
    this.slots.length = 0;
    this.idle.length = 0;
    if (used) await removeBuildNetwork(this.ctx);
    else if ((await this.ctx.networks.read()).networks[this.networkKey]) {
      await this.releaseStale();
      await removeBuildNetwork(this.ctx);
    }
  }

  /**
   * What RUN steps of killed builds left (`run-<pid>-<id>` scratch, pid gone), once per build, before its first step
   * (native-build.ts calls it at the start). A step's runtime runs in the foreground as a child of the build's CLI,
   * tied to it (runContainer): a CLI killed during the step kills the step's container too. Where it could not be
   * tied (no setpriv) or the kill came before the tie took hold, the step's `runtime run` and its container go on,
   * and the container keeps the step's root filesystem busy (the solver's sweep of the build's scratch could not
   * unmount it). Its container is deleted by force (every process killed), then its scratch (the step's /etc files)
   * removed.
   */
  private reaped: Promise<void> | undefined;
  reapOrphans(): Promise<void> {
    this.reaped ??= readdir(this.scratch)
      .then(async (names) => {
        let ids: string[] | undefined;
        for (const n of names) {
          const m = /^run-(\d+)-(.*)$/.exec(n);
          const pid = Number(m?.[1]);
          if (!(pid > 0) || pid === process.pid || pidAlive(pid)) continue;
          const prefix = m?.[2] ?? ''; // the first 12 characters of the step's container id
          if (/^[0-9a-f]{12}$/.test(prefix)) {
            ids ??= await readdir(this.ctx.oci.root).catch(() => [] as string[]);
            for (const id of ids.filter((i) => i.startsWith(prefix) && /^[0-9a-f]{32}$/.test(i)))
              await this.ctx.oci.delete(id, true).catch(() => undefined);
          }
          await rm(path.join(this.scratch, n), { recursive: true, force: true }).catch(() => undefined);
        }
      })
      .catch(() => undefined);
    return this.reaped;
  }

  async run(req: RunRequest): Promise<number> {
    await this.reapOrphans();
    // The pid in the name: a build killed during the step leaves it for the next build's sweep.
    const dir = path.join(this.scratch, `run-${process.pid}-${req.id.slice(0, 12)}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    let network: OciNetwork = req.network === 'host' ? 'host' : 'none';
    let nameservers: string[] | undefined;
    let slot: NetSlot | undefined;
    try {
      if (req.network === 'default') {
        slot = await this.acquire();
        network = { netnsPath: slot.netnsPath };
        nameservers = slot.nameservers;
      }
      const etc = await this.etcFiles(dir, req, nameservers);
      const user = await resolveUser(req.rootfs, req.user === '' ? undefined : req.user);
      const stubs = await missingTargets(req.rootfs, [
        ...req.mounts.map((m) => m.target),
        '/etc/hosts',
        '/etc/resolv.conf',
        '/etc/hostname',
        '/dev',
        '/proc',
        '/sys',
      ]);
      const mounts: OciMount[] = req.mounts.map((m) =>
        m.type === 'tmpfs'
          ? { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] }
          : { destination: m.target, type: 'bind', source: m.source ?? '', options: ['rbind', m.readOnly ? 'ro' : 'rw'] },
      );
      const spec = buildOciSpec({
        id: req.id,
        spec: {
          name: `build-${req.id.slice(0, 12)}`,
          image: '',
          labels: {},
          command: [...req.args],
          entrypoint: [],
          ...(req.shmSizeBytes !== undefined ? { shmSizeBytes: req.shmSizeBytes } : {}),
        },
        image: { Env: [...req.env], WorkingDir: req.cwd },
        rootfsPath: req.rootfs,
        user,
        hostname: HOSTNAME,
        etcFiles: etc,
        cgroupsPath: cgroupsPathFor(req.id),
        network,
        extraMounts: mounts,
      });
      spec.process.args = [...req.args];
      spec.process.env = [...req.env];
      spec.process.cwd = req.cwd;
      const bundle = path.join(dir, 'bundle');
      await mkdir(bundle, { recursive: true });
      await writeFile(path.join(bundle, 'config.json'), ociSpecToJson(spec));
      try {
        return await this.runContainer(req, bundle);
      } finally {
        await removeStubs(req.rootfs, stubs);
      }
    } finally {
      if (slot) this.idle.push(slot);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private async etcFiles(
    dir: string,
    req: RunRequest,
    nameservers: string[] | undefined,
  ): Promise<{ hosts: string; resolvConf: string; hostname: string }> {
    const etc = path.join(dir, 'etc');
    await mkdir(etc, { recursive: true });
    const files = { hosts: path.join(etc, 'hosts'), resolvConf: path.join(etc, 'resolv.conf'), hostname: path.join(etc, 'hostname') };
    const host = parseResolvConf(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
    const hosts =
      req.network === 'host'
        ? hostsFileFor({
            hostname: HOSTNAME,
            ips: [],
            extraHosts: [...req.extraHosts],
            network: 'host',
            hostHosts: await readFile('/etc/hosts', 'utf8').catch(() => ''),
          })
        : hostsFileFor({ hostname: HOSTNAME, ips: [], extraHosts: [...req.extraHosts], network: 'bridge' });
    await Promise.all([
      writeFile(files.hosts, req.network === 'host' ? hosts : hosts.replace(/^127\.0\.0\.1\s+localhost.*$/m, (l) => `${l} ${HOSTNAME}`)),
      writeFile(files.resolvConf, resolvConfFor({ nameservers: nameservers ?? host.nameservers, search: host.search, options: host.options })),
      writeFile(files.hostname, `${HOSTNAME}\n`),
    ]);
    return files;
  }

  /** `runc run` in the foreground; its output goes to the step's progress. */
  private runContainer(req: RunRequest, bundle: string): Promise<number> {
    const oci = this.ctx.oci;
    return new Promise<number>((resolve, reject) => {
      // stdin a pipe of ours, ended at once (EOF, as /dev/null): crun 1.8 chowns a container's standard streams to
      // its root, and 'ignore' would hand it the host's /dev/null.
      // Tied to this process: a CLI killed during the step kills the step's container (the runtime's `run` goes on
      // without us, and the container without it) instead of leaving it to the next build's reapOrphans.
      const death = { command: oci.exe, args: oci.killArgs(req.id, 'SIGKILL', true) };
      const child = spawnTied(oci.exe, oci.runArgs(req.id, bundle), death, { env: oci.spawnEnv() });
      child.stdin.on('error', () => undefined);
      child.stdin.end();
      child.stdout.on('data', (d: Buffer) => req.onOutput('stdout', d));
      child.stderr.on('data', (d: Buffer) => req.onOutput('stderr', d));
      let exited = false;
      // until the process is gone: the container may still be in the making when the abort comes
      const onAbort = (): void => {
        if (exited) return;
        void oci.kill(req.id, 'SIGKILL', true).catch(() => undefined);
        setTimeout(onAbort, 200).unref();
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      // aborted while the container was being set up: the listener above would never fire
      if (req.signal?.aborted) onAbort();
      child.on('error', (e) => {
        req.signal?.removeEventListener('abort', onAbort);
        reject(e);
      });
      child.on('exit', (code, sig) => {
        exited = true;
        req.signal?.removeEventListener('abort', onAbort);
        // the container's processes died with its pid namespace; don't wait on pipes something else might hold
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, 1000).unref();
        void oci.delete(req.id, true).catch(() => undefined);
        resolve(code ?? (sig ? 128 + 9 : 1));
      });
    });
  }
}

/**
 * The paths the runtime will have to create for the mount targets: every missing component of each target (a
 * symlinked parent counts as present).
 */
async function missingTargets(rootfs: string, targets: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const t of new Set(targets)) {
    const parts = path.posix.normalize(t).split('/').filter(Boolean);
    let p = '';
    let missing = false;
    for (const part of parts) {
      p += `/${part}`;
      if (!missing) {
        try {
          if ((await lstat(path.join(rootfs, p))).isSymbolicLink()) break;
          continue;
        } catch {
          missing = true;
        }
      }
      out.add(p);
    }
  }
  return [...out];
}

/**
 * Removes what the runtime created for mounts (BuildKit's mount stubs cleaner): deepest first, each one only while it
 * is still an empty file or an empty directory, so what the step itself wrote there stays.
 */
async function removeStubs(rootfs: string, stubs: readonly string[]): Promise<void> {
  for (const s of [...stubs].sort((a, b) => b.length - a.length)) {
    const p = path.join(rootfs, s);
    try {
      const st = await lstat(p);
      if (st.isDirectory()) await rmdir(p);
      else if (st.isFile() && st.size === 0) await rm(p);
    } catch {
      /* gone, or not empty */
    }
  }
}

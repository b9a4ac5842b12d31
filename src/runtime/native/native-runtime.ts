/**
 * The native runtime: compose projects with no daemon. Each container is an OCI bundle (config.json from
 * ./oci-spec.ts, an overlayfs rootfs over the image layers of ./image/) run by runc or crun under conmon, which
 * outlives the CLI, logs stdout/stderr to a file and records the exit code; conmon's exit hook applies restart
 * policies and a detached health monitor runs healthchecks (./supervise.ts, ./exit-hook.ts, ./health.ts).
 * Containers are records in the state directory (./state.ts) carrying the same labels as on Docker, so the
 * engine observes both runtimes the same way.
 *
 * Part 1 scope: `network_mode: none|host|container:<id>` only (bridge networks, DNS and published ports come
 * with part 2 and give a clear error here); named volumes and binds are plain bind mounts.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { TsComposeError } from '../../errors.js';
import { ConflictError, NotFoundError, NotModifiedError } from '../errors.js';
import {
  matchesLabels,
  type BuildProgress,
  type BuildSpec,
  type CallOptions,
  type ContainerInspect,
  type ContainerSpec,
  type ContainerStatus,
  type ContainerSummary,
  type EndpointInfo,
  type EventsOptions,
  type ExecResult,
  type ExecSession,
  type ExecSpec,
  type ImageDetails,
  type ImageInfo,
  type ImageSummary,
  type ListContainersOptions,
  type ListOptions,
  type LoadResult,
  type LogLine,
  type LogsOptions,
  type MountInfo,
  type NetworkInfo,
  type NetworkSpec,
  type ProcessList,
  type PruneResult,
  type PullProgress,
  type PushProgress,
  type Runtime,
  type RuntimeEvent,
  type VolumeInfo,
  type VolumeSpec,
  type WaitOptions,
} from '../runtime.js';
import { cgroupsPathFor, detectCgroupMode, hierarchyRoots } from './oci/cgroups.js';
import { isMissing } from '../../lib/errors.js';
import { readJson, writeJsonAtomic } from '../../lib/fs/atomic.js';
import { withLock } from '../../lib/fs/lock.js';
import { processRunning } from '../../lib/fs/proc.js';
import { healthcheckOf, buildOciSpec, ociSpecToJson, stopSignalOf, type ImageRunConfig, type OciMount, type OciNetwork, type OciSpec } from './oci/oci-spec.js';
import type { StoredImage } from '../../lib/image/store.js';
import { NativeImages } from './images.js';
import { readContainerLogs, tailJsonLines } from './logs.js';
import { hostsFileFor, parseResolvConf, resolvConfFor } from '../../lib/dns/files.js';
import { asUserError, containerNetnsPath, detachNetworks, networkId, networksOf, refreshDns, usesBridge } from './netglue.js';
import { secureJoin } from './secure-path.js';
import { appendEvent, nativePaths, type ContainerRecord, type NativePaths } from './state.js';
import {
  eventAttributes,
  finalizeExit,
  imageRunConfig,
  liveStatus,
  isMounted,
  mountRootfs,
  mountsUnder,
  nativeContext,
  ociSpecOf,
  rootfsDir,
  sleep,
  startContainerProcess,
  unmountRootfs,
  waitExitFile,
  type NativeContext,
} from './monitor/supervise.js';
import { resolveUser } from './user.js';

const execFileP = promisify(execFile);

export const NATIVE_NETWORK_HINT =
  'use --runtime docker for this project';

function unsupported(what: string, hint = NATIVE_NETWORK_HINT): TsComposeError {
  return new TsComposeError('TSC_NATIVE_UNSUPPORTED', `${what} is not yet supported on the native runtime`, { hint });
}

const INIT_BINARY_CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/catatonit', '/usr/libexec/podman/catatonit'];

/** Docker's volume name rule (also what keeps a name a single path component). */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

interface VolumeRecord {
  name: string;
  driver: string;
  labels: Record<string, string>;
  created: number;
}

export class NativeRuntime implements Runtime {
  readonly kind = 'native';
  readonly paths: NativePaths;
  private readonly env: NodeJS.ProcessEnv;
  private ctxCache: NativeContext | undefined;
  readonly images: NativeImages;

  constructor(options: { env?: NodeJS.ProcessEnv } = {}) {
    this.env = options.env ?? process.env;
    this.paths = nativePaths(this.env);
    this.images = new NativeImages({ paths: this.paths, env: this.env, imagesInUse: async () => new Set((await this.ctx.state.all()).map((r) => r.imageId)) });
  }

  /** Lazily: choosing the OCI runtime reads the host's cgroup setup and PATH. */
  get ctx(): NativeContext {
    this.ctxCache ??= nativeContext(this.paths, this.env);
    return this.ctxCache;
  }

  // ------------------------------------------------------------------------------------------------------------
  // containers

  private async record(idOrName: string): Promise<ContainerRecord> {
    const r = await this.ctx.state.find(idOrName);
    if (!r) throw new NotFoundError('container', idOrName);
    return r;
  }

  private async status(r: ContainerRecord): Promise<ContainerStatus> {
    const s = await liveStatus(this.ctx, r);
    if (s === 'exited' && (r.state.status === 'running' || r.state.status === 'paused')) {
      // The exit hook has not run yet (or could not): record the exit now.
      const next = await finalizeExit(this.ctx, r.id, r.state.generation);
      if (next) Object.assign(r, next);
    }
    return s;
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
    const live = status === 'running' || status === 'paused' ? r.state.endpoints ?? {} : {};
    const ids = this.networkIds ?? {};
    for (const ep of r.spec.networks ?? []) {
      const e = live[ep.network];
      out[ep.network] = { networkId: e?.networkId ?? ids[ep.network] ?? '', aliases: [...(ep.aliases ?? [])], ...(e ? { ipAddress: e.ip } : {}) };
    }
    return out;
  }

  private networkIds: Record<string, string> | undefined;

  private async loadNetworkIds(): Promise<void> {
    const state = await networksOf(this.paths).read();
    this.networkIds = Object.fromEntries(Object.values(state.networks).map((n) => [n.key, networkId(n.key, n.subnet)]));
  }

  async listContainers(options: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    const { containers, abandoned } = await this.ctx.state.scan();
    // Creations abandoned by a killed CLI: remove what they made (mounts, name, directory).
    for (const id of abandoned) await this.destroy(id).catch(() => undefined);
    await this.loadNetworkIds();
    const all = containers.filter((r) => matchesLabels(r.labels, options.labels));
    const out: ContainerSummary[] = [];
    for (const r of all) {
      const status = await this.status(r);
      if (options.all === false && status !== 'running' && status !== 'paused') continue;
      out.push(this.summary(r, status));
    }
    return out.sort((a, b) => a.created - b.created);
  }

  async inspectContainer(idOrName: string): Promise<ContainerInspect> {
    const r = await this.record(idOrName);
    await this.loadNetworkIds();
    const status = await this.status(r);
    const hc = r.state.health ? healthcheckOf(r.spec, await imageRunConfig(this.ctx, r)) : undefined;
    return {
      ...this.summary(r, status),
      exitCode: r.state.exitCode,
      ...(hc && r.state.health && (status === 'running' || status === 'paused') ? { health: r.state.health.status } : {}),
      ...(r.state.startedAt ? { startedAt: r.state.startedAt } : {}),
      ...(r.state.finishedAt ? { finishedAt: r.state.finishedAt } : {}),
      spec: r.spec,
    };
  }

  /** The network namespace for a spec: `none`, `host`, or joining another container's. */
  private async networkOf(spec: ContainerSpec, id: string): Promise<OciNetwork> {
    const mode = spec.networkMode;
    if (mode === undefined && (spec.networks?.length ?? 0) > 0) {
      // Bridge networks: the netns is made when a run starts (see netglue.ts); check the networks exist now.
      const state = await networksOf(this.paths).read();
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
    throw unsupported(`network_mode ${mode ?? '(none given, no networks)'}`, 'the native runtime has no default bridge: use compose networks (the default network works), or network_mode none, host or service:NAME');
  }

  private initBinary(): string | undefined {
    return INIT_BINARY_CANDIDATES.find((p) => existsSync(p));
  }

  /**
   * The container's volume mounts (named, anonymous — the compose file's and the image's VOLUMEs —, overlay-backed
   * binds, secrets and configs) as OCI mounts; binds and tmpfs are mounted by buildOciSpec. An empty named or
   * anonymous volume is filled with the image's content at its target first, unless `nocopy`.
   */
  private async volumeMounts(
    id: string,
    spec: ContainerSpec,
    image: StoredImage,
    rootfs: string,
    anonymous: string[],
  ): Promise<{ oci: OciMount[]; info: MountInfo[] }> {
    const oci: OciMount[] = [];
    const info: MountInfo[] = [];
    const dir = this.ctx.state.containerDir(id);
    // Anonymous volumes of the container this one replaces (recreate without -V), by target.
    const inherited = new Map<string, string>();
    if (spec.inheritVolumesFrom !== undefined) {
      const old = await this.ctx.state.find(spec.inheritVolumesFrom);
      for (const name of old?.anonymousVolumes ?? []) {
        const m = old!.mounts.find((x) => x.type === 'volume' && x.source === name);
        if (m) inherited.set(m.target, name);
      }
    }
    const mounts = [...(spec.mounts ?? [])];
    // volumes_from: the other container's volumes and binds, at the same targets (`:ro` makes them read-only).
    for (const ref of spec.volumesFrom ?? []) {
      const [name, mode] = ref.split(':') as [string, string | undefined];
      const other = await this.ctx.state.find(name);
      if (!other) throw new NotFoundError('container', name, { hint: `volumes_from: no container named ${name}` });
      for (const om of other.mounts) {
        if (mounts.some((m) => m.target === om.target) || (om.type !== 'volume' && om.type !== 'bind')) continue;
        mounts.push({ type: om.type, source: om.source, target: om.target, readOnly: mode === 'ro' || (mode !== 'rw' && om.readOnly), noCopy: true, createHostPath: false });
      }
    }
    const imageVolumes = Object.keys((image.config.config as ImageRunConfig | undefined)?.Volumes ?? {});
    for (const target of imageVolumes) if (!mounts.some((m) => m.target === target)) mounts.push({ type: 'volume', target });
    let n = 0;
    for (const m of mounts) {
      if (m.type === 'tmpfs') continue;
      if (m.type === 'image') throw unsupported('an image mount', 'use a bind mount or a volume');
      if (m.type === 'bind') {
        const source = m.source ?? '';
        if (!(await fs.stat(source).catch(() => undefined))) {
          if (m.createHostPath === false) {
            throw new TsComposeError('TSC_BIND_SOURCE_MISSING', `invalid mount config for type "bind": bind source path does not exist: ${source}`);
          }
          await fs.mkdir(source, { recursive: true });
        }
        if (m.overlay) {
          // Overlay-backed: the host directory is the read-only lower layer; writes go to this container's upper.
          const o = path.join(dir, 'overlay', String(n++));
          await Promise.all(['upper', 'work', 'merged'].map((d) => fs.mkdir(path.join(o, d), { recursive: true })));
          if (!(await isMounted(path.join(o, 'merged')))) {
            await execFileP('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${source},upperdir=${path.join(o, 'upper')},workdir=${path.join(o, 'work')}`, path.join(o, 'merged')]).catch((e: unknown) => {
              throw new TsComposeError('TSC_NATIVE_MOUNT', `cannot mount the overlay volume ${source}:${m.target}:O: ${String((e as { stderr?: string }).stderr ?? e).trim()}`);
            });
          }
          oci.push({ destination: m.target, type: 'bind', source: path.join(o, 'merged'), options: ['rbind', 'rprivate', ...(m.readOnly ? ['ro'] : [])] });
        }
        info.push({ type: 'bind', source, target: m.target, readOnly: m.readOnly === true });
        continue;
      }
      let name = m.source;
      if (name === undefined || name === '') {
        name = inherited.get(m.target);
        if (name === undefined) {
          name = randomBytes(32).toString('hex');
          await this.createVolume({ name, labels: { 'com.docker.volume.anonymous': '' } });
        }
        anonymous.push(name);
      } else if (!(await this.readVolume(name))) {
        await this.createVolume({ name, labels: {} });
      }
      const data = path.join(this.paths.volumes, name, '_data');
      if (!m.noCopy) await this.copyUp(rootfs, m.target, data);
      oci.push({ destination: m.target, type: 'bind', source: data, options: ['rbind', 'rprivate', ...(m.readOnly ? ['ro'] : [])] });
      info.push({ type: 'volume', source: name, target: m.target, readOnly: m.readOnly === true });
    }
    // Secrets and configs: files bound read-only (inline contents are written beside the container).
    for (const [i, f] of (spec.files ?? []).entries()) {
      let source = f.source;
      if (source === undefined) {
        source = path.join(dir, 'files', String(i));
        await fs.mkdir(path.dirname(source), { recursive: true });
        await fs.writeFile(source, f.content ?? '', { mode: f.mode ?? 0o444 });
        await fs.chmod(source, f.mode ?? 0o444);
        if (f.uid !== undefined || f.gid !== undefined) await fs.chown(source, f.uid ?? 0, f.gid ?? 0);
      } else if (!(await fs.stat(source).catch(() => undefined))) {
        throw new TsComposeError('TSC_FILE_MISSING', `secret/config file ${source} for ${f.target} does not exist`);
      }
      oci.push({ destination: f.target, type: 'bind', source, options: ['rbind', 'rprivate', 'ro'] });
      info.push({ type: 'bind', source, target: f.target, readOnly: true });
    }
    return { oci, info };
  }

  /** Docker's volume copy-up: an empty volume gets the image's content at `target` (owners and modes kept). */
  private async copyUp(rootfs: string, target: string, data: string): Promise<void> {
    if ((await fs.readdir(data).catch(() => ['?'])).length > 0) return;
    const src = await secureJoin(rootfs, target);
    const st = await fs.lstat(src).catch(() => undefined);
    if (!st?.isDirectory()) return;
    if ((await fs.readdir(src)).length === 0) return;
    await execFileP('cp', ['-a', `${src}/.`, `${data}/`]);
    const dst = await fs.stat(data);
    if (dst.uid !== st.uid || dst.gid !== st.gid) await fs.chown(data, st.uid, st.gid);
    await fs.chmod(data, st.mode & 0o7777);
  }

  private async writeEtcFiles(dir: string, spec: ContainerSpec, hostname: string, network: OciNetwork): Promise<{ hosts: string; hostname: string; resolvConf: string }> {
    const etc = path.join(dir, 'etc');
    await fs.mkdir(etc, { recursive: true });
    const files = { hosts: path.join(etc, 'hosts'), hostname: path.join(etc, 'hostname'), resolvConf: path.join(etc, 'resolv.conf') };
    // The same generator as the bridge path (netglue.ts). Without an address yet (none, container:, a bridge
    // network before its first start) there is no line for the container itself.
    let hosts: string;
    try {
      hosts = hostsFileFor({
        hostname,
        ips: [],
        extraHosts: [...(spec.extraHosts ?? [])],
        ...(network === 'host' ? { network: 'host' as const, hostHosts: await fs.readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n') } : { network: 'bridge' as const }),
      });
    } catch (e) {
      throw new TsComposeError('TSC_INVALID_EXTRA_HOSTS', `container ${spec.name}: ${(e as Error).message}`);
    }
    const host = parseResolvConf(await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
    const resolv = resolvConfFor({
      nameservers: spec.dns && spec.dns.length > 0 ? [...spec.dns] : host.nameservers,
      search: spec.dnsSearch ? [...spec.dnsSearch] : host.search,
      options: spec.dnsOptions ? [...spec.dnsOptions] : host.options,
    });
    await Promise.all([fs.writeFile(files.hosts, hosts), fs.writeFile(files.hostname, `${hostname}\n`), fs.writeFile(files.resolvConf, resolv)]);
    return files;
  }

  async createContainer(spec: ContainerSpec): Promise<{ id: string }> {
    const ctx = this.ctx;
    const id = randomBytes(32).toString('hex');
    const network = await this.networkOf(spec, id);
    if (spec.ports && spec.ports.length > 0 && typeof network !== 'object') {
      if (network === 'none') throw new TsComposeError('TSC_INVALID_PORTS', `container ${spec.name}: published ports need a network (network_mode is none)`);
    }
    const image = await this.images.resolve(spec.image);
    if (!image) throw new NotFoundError('image', spec.image, { hint: `pull it first: tscompose --runtime native image pull ${spec.image}` });
    const dir = ctx.state.containerDir(id);
    const taken = await ctx.state.claimName(spec.name, id);
    if (taken) {
      throw new ConflictError('container', spec.name, `the container name "/${spec.name}" is already in use by container "${taken}". You have to remove (or rename) that container to be able to reuse that name`);
    }
    await fs.mkdir(path.join(dir, 'bundle'), { recursive: true });
    // A placeholder record backs the name claim until the real one is written (`creating`: not listed yet; a
    // later command removes it if this CLI dies first).
    await ctx.state.write({ ...this.newRecord(id, spec, image, '', [], []), creating: process.pid });
    try {
      const rootfs = await mountRootfs(ctx, id, this.images.overlayLowerdir(image));
      const imageConfig: ImageRunConfig = (image.config.config ?? {}) as ImageRunConfig;
      await writeJsonAtomic(path.join(dir, 'image-config.json'), image.config);
      const user = await resolveUser(rootfs, spec.user ?? imageConfig.User);
      const hostname = network === 'host' && spec.hostname === undefined ? os.hostname() : spec.hostname ?? id.slice(0, 12);
      const etcFiles = await this.writeEtcFiles(dir, spec, hostname, network);
      const anonymous: string[] = [];
      const vols = await this.volumeMounts(id, spec, image, rootfs, anonymous);
      const initBinary = spec.init ? this.initBinary() : undefined;
      const oci = buildOciSpec({
        id,
        spec,
        image: imageConfig,
        rootfsPath: rootfs,
        user,
        hostname,
        etcFiles,
        ...(initBinary ? { initBinary } : {}),
        cgroupsPath: cgroupsPathFor(id),
        network,
        extraMounts: vols.oci,
        swapLimitSupported: this.swapLimitSupported(),
      });
      await fs.writeFile(path.join(dir, 'bundle', 'config.json'), ociSpecToJson(oci));
      const tmpfsInfo: MountInfo[] = (spec.mounts ?? []).filter((m) => m.type === 'tmpfs').map((m) => ({ type: 'tmpfs', source: '', target: m.target, readOnly: m.readOnly === true }));
      await ctx.state.write(this.newRecord(id, spec, image, hostname, [...vols.info, ...tmpfsInfo], anonymous));
    } catch (e) {
      await this.destroy(id).catch(() => undefined);
      throw e;
    }
    const r = await ctx.state.read(id);
    if (r) await appendEvent(this.paths, { type: 'container', action: 'create', id, attributes: eventAttributes(r) });
    return { id };
  }

  private swapLimitSupported(): boolean {
    const mode = detectCgroupMode();
    return mode === 'v2' || existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
  }

  private newRecord(id: string, spec: ContainerSpec, image: StoredImage, hostname: string, mounts: MountInfo[], anonymousVolumes: string[]): ContainerRecord {
    return {
      id,
      name: spec.name,
      image: spec.image,
      imageId: image.id,
      labels: spec.labels,
      created: Date.now(),
      hostname,
      spec,
      mounts,
      anonymousVolumes,
      state: { status: 'created', exitCode: 0, restartCount: 0, stoppedByUser: false, generation: 0 },
    };
  }

  async startContainer(idOrName: string): Promise<void> {
    const r0 = await this.record(idOrName);
    if ((await this.status(r0)) === 'running' || r0.state.status === 'paused') throw new NotModifiedError('container', r0.name, 'already running');
    const ctx = this.ctx;
    let started: ContainerRecord | undefined;
    await ctx.state.update(r0.id, async (r) => {
      if (r.state.status === 'running' || r.state.status === 'paused') return undefined;
      const image = await this.images.resolve(r.imageId);
      if (!image) throw new NotFoundError('image', r.image);
      await mountRootfs(ctx, r.id, this.images.overlayLowerdir(image));
      if (r.spec.networkMode?.startsWith('container:')) {
        // The joined container may have a new process since this one was created.
        const net = await this.networkOf(r.spec, r.id);
        const oci = await ociSpecOf(ctx, r.id);
        oci.linux.namespaces = oci.linux.namespaces.map((n) => (n.type === 'network' && typeof net === 'object' ? { type: 'network', path: net.netnsPath } : n));
        await fs.writeFile(path.join(ctx.state.containerDir(r.id), 'bundle', 'config.json'), ociSpecToJson(oci));
      }
      // A start by the user begins a new restart count (Docker).
      started = await startContainerProcess(ctx, { ...r, state: { ...r.state, stoppedByUser: false, restartCount: 0 } });
      return started;
    });
    if (started) await appendEvent(this.paths, { type: 'container', action: 'start', id: r0.id, attributes: eventAttributes(started) });
  }

  /** Sends the stop signal, waits `timeoutSeconds`, then SIGKILL; records the exit. */
  private async stopRecord(r: ContainerRecord, timeoutSeconds: number | undefined, signal?: string, keepNetworks = false): Promise<void> {
    const ctx = this.ctx;
    await ctx.state.update(r.id, (rec) => ({ ...rec, state: { ...rec.state, stoppedByUser: true } }));
    // conmon's exit command sees this and leaves recording the exit to us (no Node start per stopped container).
    await fs.writeFile(ctx.state.stoppingFile(r.id), '').catch(() => undefined);
    const timeout = (timeoutSeconds ?? r.spec.stopTimeoutSeconds ?? 10) * 1000;
    const sig = timeout === 0 ? 'SIGKILL' : signal ?? stopSignalOf(r.spec, await imageRunConfig(ctx, r));
    const wasPaused = r.state.status === 'paused';
    if (sig === 'SIGKILL' && !wasPaused) {
      // SIGKILL to the init of its own pid namespace ends every process of the container, no spawn needed;
      // otherwise `delete --force` kills every process and removes the runtime state: one spawn, not kill + delete.
      if (!(await ctx.oci.killWithoutSpawn(r.id, 'SIGKILL', true))) await ctx.oci.delete(r.id, true).catch(() => undefined);
    } else {
      await ctx.oci.kill(r.id, sig, sig === 'SIGKILL').catch(() => undefined);
      if (wasPaused) await ctx.oci.resume(r.id).catch(() => undefined);
    }
    if (sig === 'SIGKILL') await waitExitFile(ctx, r, 10_000);
    else if (!(await waitExitFile(ctx, r, timeout))) {
      await ctx.oci.kill(r.id, 'SIGKILL', true).catch(() => undefined);
      await waitExitFile(ctx, r, 10_000);
    }
    await finalizeExit(ctx, r.id, undefined, { keepNetworks });
  }

  async stopContainer(idOrName: string, options: CallOptions & { timeoutSeconds?: number | undefined; removing?: boolean | undefined } = {}): Promise<void> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s === 'restarting') {
      // Between two runs of a restart policy: cancel the pending restart.
      await this.ctx.state.update(r.id, (rec) => ({ ...rec, state: { ...rec.state, status: rec.state.status === 'restarting' ? 'exited' : rec.state.status, stoppedByUser: true } }));
      return;
    }
    if (s !== 'running' && s !== 'paused') throw new NotModifiedError('container', r.name, 'not running');
    // Removed right after (down): its network endpoints go with the removal, off the path of the next service's stop.
    await this.stopRecord(r, options.timeoutSeconds, undefined, options.removing === true);
    await appendEvent(this.paths, { type: 'container', action: 'stop', id: r.id, attributes: eventAttributes(r) });
  }

  async killContainer(idOrName: string, options: CallOptions & { killSignal?: string | undefined } = {}): Promise<void> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s !== 'running' && s !== 'paused') throw new ConflictError('container', r.name, `container ${r.id} is not running`);
    const sig = options.killSignal ?? 'SIGKILL';
    await this.ctx.state.update(r.id, (rec) => ({ ...rec, state: { ...rec.state, stoppedByUser: true } }));
    await fs.writeFile(this.ctx.state.stoppingFile(r.id), '').catch(() => undefined);
    try {
      await this.ctx.oci.kill(r.id, sig);
    } catch (e) {
      throw new TsComposeError('TSC_NATIVE_KILL', `cannot kill container ${r.name}: ${(e as Error).message}`);
    }
    await appendEvent(this.paths, { type: 'container', action: 'kill', id: r.id, attributes: eventAttributes(r, { signal: sig }) });
    if (await waitExitFile(this.ctx, r, 2000)) await finalizeExit(this.ctx, r.id);
  }

  /** Removes everything of a container: runtime state, rootfs mount, directories. */
  private async destroy(id: string): Promise<void> {
    const ctx = this.ctx;
    const conmonPid = Number(await fs.readFile(path.join(ctx.paths.run, id.slice(0, 12), 'conmon.pid'), 'utf8').catch(() => '0'));
    // The OCI runtime keeps its state in <root>/<id>: no process to spawn when the exit was already recorded.
    if (existsSync(path.join(ctx.oci.root, id))) await ctx.oci.delete(id, true).catch(() => undefined);
    const rec = await ctx.state.read(id);
    // Normally released when its run ended; a crash (kill -9 while starting) may have left some: cheap when none.
    if (rec && usesBridge(rec)) await detachNetworks(this.paths, rec).catch(() => undefined);
    // Let its monitor finish (it runs the exit hook, which then finds no record and leaves).
    for (let i = 0; i < 40 && conmonPid > 0 && processRunning(conmonPid); i++) await sleep(50);
    await unmountRootfs(ctx, id);
    const left = await mountsUnder(ctx.state.containerDir(id));
    if (left.length > 0) {
      // Never rm -rf through a mount: that would delete the volume's or the host directory's files.
      throw new TsComposeError('TSC_NATIVE_BUSY', `cannot remove container ${id.slice(0, 12)}: ${left[0]} is still mounted`, { hint: `umount it (umount -l ${left[0]}) and retry` });
    }
    await fs.rm(path.join(ctx.paths.run, id.slice(0, 12)), { recursive: true, force: true });
    await fs.rm(ctx.state.containerDir(id), { recursive: true, force: true });
    await fs.rm(path.join(ctx.paths.locks, `c-${id}`), { recursive: true, force: true });
    if (rec) await ctx.state.releaseName(rec.name, id);
    // The shared /tscompose cgroup parents go with the last container (rmdir fails while others use them).
    const mode = detectCgroupMode();
    for (const root of hierarchyRoots(mode)) await fs.rmdir(path.join(root, 'tscompose')).catch(() => undefined);
  }

  async removeContainer(idOrName: string, options: CallOptions & { force?: boolean | undefined; volumes?: boolean | undefined } = {}): Promise<void> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s === 'running' || s === 'paused') {
      if (!options.force) {
        throw new ConflictError('container', r.name, `cannot remove container "/${r.name}": container is running: stop the container before removing or force remove`);
      }
      await this.stopRecord(r, 0, 'SIGKILL');
    }
    await this.ctx.state.update(r.id, (rec) => ({ ...rec, state: { ...rec.state, stoppedByUser: true, generation: rec.state.generation + 1 } }));
    await this.destroy(r.id);
    if (options.volumes) for (const v of r.anonymousVolumes) await this.removeVolume(v, { force: true }).catch(() => undefined);
    await appendEvent(this.paths, { type: 'container', action: 'destroy', id: r.id, attributes: eventAttributes(r) });
  }

  async renameContainer(idOrName: string, newName: string): Promise<void> {
    const r = await this.record(idOrName);
    const taken = await this.ctx.state.claimName(newName, r.id);
    if (taken) throw new ConflictError('container', newName, `the container name "/${newName}" is already in use by container "${taken}"`);
    await this.ctx.state.update(r.id, (rec) => ({ ...rec, name: newName, spec: { ...rec.spec, name: newName } }));
    await this.ctx.state.releaseName(r.name, r.id);
    await appendEvent(this.paths, { type: 'container', action: 'rename', id: r.id, attributes: eventAttributes({ ...r, name: newName }, { oldName: r.name }) });
  }

  async restartContainer(idOrName: string, options: CallOptions & { timeoutSeconds?: number | undefined } = {}): Promise<void> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s === 'running' || s === 'paused') await this.stopRecord(r, options.timeoutSeconds);
    await this.startContainer(r.id);
    await appendEvent(this.paths, { type: 'container', action: 'restart', id: r.id, attributes: eventAttributes(r) });
  }

  async pauseContainer(idOrName: string): Promise<void> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s === 'paused') throw new ConflictError('container', r.name, `container ${r.id} is already paused`);
    if (s !== 'running') throw new ConflictError('container', r.name, `container ${r.id} is not running`);
    await this.ctx.oci.pause(r.id);
    await this.ctx.state.update(r.id, (rec) => ({ ...rec, state: { ...rec.state, status: 'paused' } }));
    await appendEvent(this.paths, { type: 'container', action: 'pause', id: r.id, attributes: eventAttributes(r) });
  }

  async unpauseContainer(idOrName: string): Promise<void> {
    const r = await this.record(idOrName);
    if ((await this.status(r)) !== 'paused') throw new ConflictError('container', r.name, `container ${r.id} is not paused`);
    await this.ctx.oci.resume(r.id);
    await this.ctx.state.update(r.id, (rec) => ({ ...rec, state: { ...rec.state, status: 'running' } }));
    await appendEvent(this.paths, { type: 'container', action: 'unpause', id: r.id, attributes: eventAttributes(r) });
  }

  async waitContainer(idOrName: string, options: WaitOptions = {}): Promise<number> {
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
      if (condition === 'next-exit' && stopped && (r.state.generation > startGen || firstStatus === 'running' || firstStatus === 'paused')) return r.state.exitCode;
      await sleep(delay);
      delay = Math.min(delay * 2, 200);
    }
  }

  async topContainer(idOrName: string, options: CallOptions & { psArgs?: string | undefined } = {}): Promise<ProcessList> {
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

  private async running(idOrName: string): Promise<ContainerRecord> {
    const r = await this.record(idOrName);
    const s = await this.status(r);
    if (s === 'paused') throw new ConflictError('container', r.name, `container ${r.id} is paused, unpause the container before exec`);
    if (s !== 'running') throw new ConflictError('container', r.name, `container ${r.id} is not running`);
    return r;
  }

  async exec(idOrName: string, spec: ExecSpec, options: CallOptions = {}): Promise<ExecResult> {
    const r = await this.running(idOrName);
    const { execBuffered } = await import('./exec.js');
    const out = await execBuffered(this.ctx, r, spec, { signal: options.signal });
    return { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr };
  }

  async execStream(idOrName: string, spec: ExecSpec, options: CallOptions = {}): Promise<ExecSession> {
    const r = await this.running(idOrName);
    const { spawnExec } = await import('./exec.js');
    const child = await spawnExec(this.ctx, r, spec, { signal: options.signal });
    return { stdout: child.stdout, stderr: child.stderr, wait: () => child.exit };
  }

  async *containerLogs(idOrName: string, options: LogsOptions = {}): AsyncIterable<LogLine> {
    const r = await this.record(idOrName);
    const ctx = this.ctx;
    yield* readContainerLogs(ctx.state.logFile(r.id), options, {
      active: async () => {
        const cur = await ctx.state.read(r.id);
        if (!cur) return false;
        const s = await liveStatus(ctx, cur);
        return s === 'running' || s === 'paused';
      },
    });
  }

  async *events(options: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    const since = options.since === undefined ? undefined : options.since * 1000;
    const until = options.until === undefined ? undefined : options.until * 1000;
    let done = false;
    for await (const e of tailJsonLines<RuntimeEvent>(this.paths.events, { fromStart: since !== undefined, signal: options.signal, stop: () => done || (until !== undefined && Date.now() > until) })) {
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
    const s = await this.status(r);
    if ((s === 'running' || s === 'paused') && r.state.pid !== undefined) {
      // Through the container's own mount namespace, so its bind mounts (/etc/hostname, volumes) are seen;
      // secureJoin resolves every symlink inside that root.
      return secureJoin(`/proc/${r.state.pid}/root`, p);
    }
    const image = await this.images.resolve(r.imageId);
    if (image) await mountRootfs(ctx, r.id, this.images.overlayLowerdir(image));
    return secureJoin(rootfsDir(ctx, r.id), p);
  }

  async copyToContainer(idOrName: string, p: string, tar: Readable): Promise<void> {
    const r = await this.record(idOrName);
    const target = await this.pathInContainer(r, p);
    const st = await fs.stat(target).catch(() => undefined);
    if (!st) throw new NotFoundError('container', `${r.name}:${p}`, { hint: `no such directory in the container: ${p}` });
    if (!st.isDirectory()) throw new ConflictError('container', r.name, `${p} is not a directory`);
    await new Promise<void>((resolve, reject) => {
      const child = spawn('tar', ['-x', '--no-overwrite-dir', '-C', target, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new TsComposeError('TSC_NATIVE_CP', `copying into ${r.name}:${p} failed: ${err.trim()}`))));
      tar.pipe(child.stdin!);
      child.stdin!.on('error', () => undefined);
    });
  }

  async copyFromContainer(idOrName: string, p: string): Promise<Readable> {
    const r = await this.record(idOrName);
    const source = await this.pathInContainer(r, p);
    if (!(await fs.lstat(source).catch(() => undefined))) throw new NotFoundError('container', `${r.name}:${p}`, { hint: `no such file or directory in the container: ${p}` });
    const child = spawn('tar', ['-c', '-C', path.dirname(source), '-f', '-', path.basename(source)], { stdio: ['ignore', 'pipe', 'ignore'] });
    const out = new PassThrough();
    child.stdout!.pipe(out);
    child.on('error', (e) => out.destroy(e));
    return out;
  }

  // ------------------------------------------------------------------------------------------------------------
  // networks (bridges with DNS: ./net, ./dns, ./netglue.ts)

  private async networkInfos(): Promise<NetworkInfo[]> {
    const state = await networksOf(this.paths).read();
    return Object.values(state.networks).map((n) => ({
      id: networkId(n.key, n.subnet),
      name: n.key,
      driver: 'bridge',
      labels: n.labels ?? {},
      internal: n.internal,
      attachable: false,
      containers: Object.keys(n.endpoints),
    }));
  }

  async listNetworks(options: ListOptions = {}): Promise<NetworkInfo[]> {
    return (await this.networkInfos()).filter((n) => matchesLabels(n.labels, options.labels));
  }

  async inspectNetwork(idOrName: string): Promise<NetworkInfo> {
    const all = await this.networkInfos();
    const n = all.find((x) => x.name === idOrName || x.id === idOrName) ?? (idOrName.length >= 12 ? all.find((x) => x.id.startsWith(idOrName)) : undefined);
    if (!n) throw new NotFoundError('network', idOrName);
    return n;
  }

  async createNetwork(spec: NetworkSpec): Promise<{ id: string }> {
    if (spec.driver !== undefined && spec.driver !== 'bridge') throw unsupported(`network driver ${spec.driver}`, 'the native runtime has bridge networks only');
    const existing = (await this.networkInfos()).find((n) => n.name === spec.name);
    if (existing) throw new ConflictError('network', spec.name, `network with name ${spec.name} already exists`);
    const { network } = await networksOf(this.paths).createNetwork({
      key: spec.name,
      name: spec.name,
      ...(spec.internal ? { internal: true } : {}),
      ...(spec.ipam?.config ? { ipam: spec.ipam.config.map((c) => ({ ...(c.subnet ? { subnet: c.subnet } : {}), ...(c.gateway ? { gateway: c.gateway } : {}), ...(c.ipRange ? { ip_range: c.ipRange } : {}) })) as never } : {}),
      ...(spec.driverOpts ? { driverOpts: spec.driverOpts } : {}),
      labels: { ...spec.labels },
    }).catch((e: unknown) => {
      throw asUserError(e, `cannot create network ${spec.name}`);
    });
    const id = networkId(network.key, network.subnet);
    await appendEvent(this.paths, { type: 'network', action: 'create', id, attributes: { ...spec.labels, name: spec.name, type: 'bridge' } });
    return { id };
  }

  async removeNetwork(idOrName: string): Promise<void> {
    const n = await this.inspectNetwork(idOrName);
    if (n.containers.length > 0) throw new ConflictError('network', n.name, `error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    await refreshDns(this.paths, [n.name]);
    await networksOf(this.paths).removeNetwork(n.name);
    await appendEvent(this.paths, { type: 'network', action: 'destroy', id: n.id, attributes: { ...n.labels, name: n.name, type: 'bridge' } });
  }

  async connectNetwork(network: string, container: string): Promise<void> {
    throw unsupported(`connecting a container to network ${network} after its creation (${container})`, 'declare the network in the compose file');
  }

  async disconnectNetwork(network: string): Promise<void> {
    throw unsupported(`disconnecting from network ${network}`, 'declare the networks in the compose file');
  }

  // ------------------------------------------------------------------------------------------------------------
  // volumes (directories under the state dir)

  private async readVolume(name: string): Promise<VolumeRecord | undefined> {
    if (!VOLUME_NAME.test(name)) return undefined;
    return readJson<VolumeRecord>(path.join(this.paths.volumes, name, 'volume.json'));
  }

  private volumeInfo(v: VolumeRecord): VolumeInfo {
    return { name: v.name, driver: v.driver, labels: v.labels, mountpoint: path.join(this.paths.volumes, v.name, '_data') };
  }

  async listVolumes(options: ListOptions = {}): Promise<VolumeInfo[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.paths.volumes);
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
    const out: VolumeInfo[] = [];
    for (const n of names.sort()) {
      const v = await this.readVolume(n);
      if (v && matchesLabels(v.labels, options.labels)) out.push(this.volumeInfo(v));
    }
    return out;
  }

  async inspectVolume(name: string): Promise<VolumeInfo> {
    const v = await this.readVolume(name);
    if (!v) throw new NotFoundError('volume', name);
    return this.volumeInfo(v);
  }

  async createVolume(spec: VolumeSpec): Promise<VolumeInfo> {
    if (!VOLUME_NAME.test(spec.name)) {
      throw new TsComposeError('TSC_INVALID_VOLUME_NAME', `invalid volume name ${JSON.stringify(spec.name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    if (spec.driver !== undefined && spec.driver !== 'local') throw unsupported(`volume driver ${spec.driver}`, 'the native runtime has local volumes only');
    return withLock(path.join(this.paths.locks, `v-${spec.name}`), async () => {
      const existing = await this.readVolume(spec.name);
      if (existing) return this.volumeInfo(existing);
      const dir = path.join(this.paths.volumes, spec.name);
      await fs.mkdir(path.join(dir, '_data'), { recursive: true, mode: 0o755 });
      const v: VolumeRecord = { name: spec.name, driver: 'local', labels: { ...spec.labels }, created: Date.now() };
      await writeJsonAtomic(path.join(dir, 'volume.json'), v);
      await appendEvent(this.paths, { type: 'volume', action: 'create', id: spec.name, attributes: { ...v.labels, driver: 'local' } });
      return this.volumeInfo(v);
    });
  }

  async removeVolume(name: string, options: CallOptions & { force?: boolean | undefined } = {}): Promise<void> {
    const v = await this.readVolume(name);
    if (!v) {
      if (options.force) return;
      throw new NotFoundError('volume', name);
    }
    const users = (await this.ctx.state.all()).filter((r) => r.mounts.some((m) => m.type === 'volume' && m.source === name));
    if (users.length > 0) throw new ConflictError('volume', name, `volume is in use - [${users.map((u) => u.id).join(', ')}]`);
    await fs.rm(path.join(this.paths.volumes, name), { recursive: true, force: true });
    await appendEvent(this.paths, { type: 'volume', action: 'destroy', id: name, attributes: { ...v.labels, driver: 'local' } });
  }

  // ------------------------------------------------------------------------------------------------------------
  // images

  inspectImage(ref: string): Promise<ImageInfo> { return this.images.inspectImage(ref); }
  pullImage(ref: string, options?: CallOptions & { platform?: string | undefined; onProgress?: ((event: PullProgress) => void) | undefined }): Promise<ImageInfo> { return this.images.pullImage(ref, options); }
  removeImage(ref: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> { return this.images.removeImage(ref, options); }
  listImages(options?: ListOptions): Promise<ImageSummary[]> { return this.images.listImages(options); }
  buildImage(spec: BuildSpec, options?: CallOptions & { onProgress?: ((event: BuildProgress) => void) | undefined }): Promise<{ id: string }> { return this.images.buildImage(spec, options); }
  pushImage(ref: string, options?: CallOptions & { onProgress?: ((event: PushProgress) => void) | undefined }): Promise<void> { return this.images.pushImage(ref, options); }
  tagImage(source: string, target: string): Promise<void> { return this.images.tagImage(source, target); }
  loadImage(archive: Readable, options?: CallOptions): Promise<LoadResult> { return this.images.loadImage(archive, options); }
  saveImage(refs: readonly string[]): Promise<Readable> { return this.images.saveImage(refs); }
  pruneImages(options?: CallOptions & { all?: boolean | undefined }): Promise<PruneResult> { return this.images.pruneImages(options); }
  inspectImageDetails(ref: string): Promise<ImageDetails> { return this.images.inspectImageDetails(ref); }

  // ------------------------------------------------------------------------------------------------------------

  async ping(): Promise<boolean> {
    try {
      if (process.getuid?.() !== 0) return false;
      void this.ctx; // throws when no OCI runtime is installed
      return existsSync('/usr/bin/conmon') || (await execFileP('sh', ['-c', 'command -v conmon']).then(() => true, () => false));
    } catch {
      return false;
    }
  }
}

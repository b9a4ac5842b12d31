/**
 * Creating a native container: its name claimed, the image's layers mounted as its overlay rootfs, the user
 * resolved in that rootfs, /etc/hosts, /etc/hostname and /etc/resolv.conf written beside it, its volumes set up
 * (./container-mounts.ts), the OCI bundle written (./oci/oci-spec.ts) and its record saved (./state.ts).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TsComposeError } from '../../errors.js';
import { hostsFileFor, parseResolvConf, resolvConfFor } from '../../lib/dns/files.js';
import { writeJsonAtomic } from '../../lib/fs/atomic.js';
import type { StoredImage } from '../../lib/image/store.js';
import { StaticAddressError } from '../../lib/net/errors.js';
import { checkAddressSyntax } from '../../lib/net/static-address.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { ContainerSpec, MountInfo } from '../runtime.js';
import { CGROUP_PARENT_FILE } from './cgroup-parent.js';
import { volumeMounts } from './container-mounts.js';
import { logOptionsProblem } from './log-files.js';
import type { ContainerService } from './containers.js';
import type { NativeContext } from './context.js';
import { eventAttributes } from './monitor/record.js';
import { staticAddressError } from './netglue.js';
import { mountRootfs } from './rootfs.js';
import { cgroupsPathFor, detectCgroupMode, missingCgroupDirs } from './oci/cgroups.js';
import { blkioSupport } from './oci/blkio.js';
import { ensureShm, namespaceJoins } from './container-joins.js';
import { buildOciSpec, ociSpecToJson } from './oci/oci-spec.js';
import { BPF_ANNOTATION, cachedFilter, seccompCacheDir, seccompCacheKey } from './oci/seccomp-cache.js';
import type { BlkioSupport, ImageRunConfig, OciNetwork, OciSpec } from './oci/spec-types.js';
import type { ContainerRecord } from './state.js';
import { resolveUser } from './user.js';
import { withGroupAdd } from './group-add.js';
import { joinedUserns } from './userns/join.js';
import { containerRemap, createBindSources } from './userns/mode.js';
import { shiftOwners } from './userns/shift.js';
import type { VolumeService } from './volumes.js';
import { traced } from '../../util/trace.js';

export async function createContainer(
  ctx: NativeContext,
  containers: ContainerService,
  volumes: VolumeService,
  spec: ContainerSpec,
): Promise<{ id: string }> {
  const logProblem = logOptionsProblem(spec.logging);
  if (logProblem !== undefined) {
    throw new TsComposeError('TSC_NATIVE_LOGGING', `container ${spec.name}: failed to initialize logging driver: ${logProblem}`, {
      hint: 'logging.options max-size takes a size (10k, 20m, 1g), max-file a whole number of files (at least 1)',
    });
  }
  // Docker Engine refuses a static address that is not one of its family when the container is created.
  for (const ep of spec.networks ?? []) {
    try {
      checkAddressSyntax(ep);
    } catch (e) {
      throw e instanceof StaticAddressError ? staticAddressError(e, spec.name) : e;
    }
  }
  const id = randomBytes(32).toString('hex');
  const network = await containers.networkOf(spec, id);
  const joins = await namespaceJoins(ctx, spec, id, true);
  if (spec.ports && spec.ports.length > 0 && typeof network !== 'object') {
    if (network === 'none')
      throw new TsComposeError('TSC_INVALID_PORTS', `container ${spec.name}: published ports need a network (network_mode is none)`);
  }
  const userns = await joinedUserns(ctx, spec, containerRemap(spec, ctx.userns()));
  const images = await ctx.images();
  const image = await images.resolve(spec.image);
  if (!image) throw new NotFoundError('image', spec.image, { hint: `pull it first: tscompose --runtime native image pull ${spec.image}` });
  const dir = ctx.state.containerDir(id);
  const taken = await ctx.state.claimName(spec.name, id);
  if (taken) {
    throw new ConflictError(
      'container',
      spec.name,
      `the container name "/${spec.name}" is already in use by container "${taken}". You have to remove (or rename) that container to be able to reuse that name`,
    );
  }
  // A placeholder record backs the name claim until the real one is written (`creating`: not listed yet; a
  // later command removes it if this CLI dies first).
  await ctx.state.createContainerDir({ ...newRecord(id, spec, image, '', [], []), creating: process.pid });
  try {
    const rootfs = await traced('native.create.mount', () => mountRootfs(ctx, id, images.overlayLowerdir(image), { userns }));
    const imageConfig: ImageRunConfig = (image.config.config ?? {}) as ImageRunConfig;
    await writeJsonAtomic(path.join(dir, 'image-config.json'), image.config);
    const user = await withGroupAdd(rootfs, await resolveUser(rootfs, spec.user ?? imageConfig.User), spec.groupAdd);
    const hostname = network === 'host' && spec.hostname === undefined ? os.hostname() : (spec.hostname ?? id.slice(0, 12));
    const etcFiles = await writeEtcFiles(dir, spec, hostname, network);
    if (userns) await createBindSources(spec.mounts, userns);
    const vols = await volumeMounts(ctx, volumes, { id, spec, image, rootfs, userns });
    // Inline secrets and configs written beside the container belong to the remapped ids of their owners.
    if (userns && (await fs.stat(path.join(dir, 'files')).catch(() => undefined))) await shiftOwners(path.join(dir, 'files'), userns);
    const initBinary = spec.init ? ctx.initBinary() : undefined;
    await ensureShm(ctx, spec, id, userns);
    const cgroupsPath = cgroupsPathFor(id, spec.cgroupParent);
    if (spec.cgroupParent) await writeJsonAtomic(path.join(dir, CGROUP_PARENT_FILE), missingCgroupDirs(path.posix.dirname(cgroupsPath)));
    const oci = buildOciSpec({
      id,
      spec,
      image: imageConfig,
      rootfsPath: rootfs,
      user,
      hostname,
      etcFiles,
      ...(initBinary ? { initBinary } : {}),
      cgroupsPath,
      network,
      extraMounts: vols.oci,
      swapLimitSupported: swapLimitSupported(),
      userns,
      joinedNamespaces: joins,
      ...(joins.shm !== undefined ? { shmSource: joins.shm } : {}),
      ...(spec.resources?.blkio ? { blkioSupport: hostBlkioSupport() } : {}),
    });
    await fs.writeFile(path.join(dir, 'bundle', 'config.json'), ociSpecToJson(await withCachedFilter(ctx, dir, oci)));
    const tmpfsInfo: MountInfo[] = (spec.mounts ?? [])
      .filter((m) => m.type === 'tmpfs')
      .map((m) => ({ type: 'tmpfs', source: '', target: m.target, readOnly: m.readOnly === true }));
    await ctx.state.write(newRecord(id, spec, image, hostname, [...vols.info, ...tmpfsInfo], vols.anonymous));
  } catch (e) {
    await containers.destroyCreation(id).catch(() => undefined);
    throw e;
  }
  const r = await ctx.state.read(id);
  if (r) await ctx.event({ type: 'container', action: 'create', id, attributes: eventAttributes(r) });
  return { id };
}

/**
 * With crun, the seccomp filter compiled for an earlier container of the same profile (./oci/seccomp-cache.ts), or
 * a note (`seccomp.key`) for the start to keep the one crun compiles for this container.
 */
async function withCachedFilter(ctx: NativeContext, dir: string, spec: OciSpec): Promise<OciSpec> {
  if (ctx.oci.name !== 'crun' || ctx.env.TSCOMPOSE_SECCOMP_CACHE === '0') return spec;
  const key = seccompCacheKey(spec, ctx.oci.binary);
  if (!key) return spec;
  const data = cachedFilter(seccompCacheDir(ctx), key);
  if (data) return { ...spec, annotations: { ...spec.annotations, [BPF_ANNOTATION]: data } };
  await fs.writeFile(path.join(dir, 'seccomp.key'), key);
  return spec;
}

let blkio: BlkioSupport | undefined;
function hostBlkioSupport(): BlkioSupport {
  blkio ??= blkioSupport();
  return blkio;
}

/** Whether the host limits swap (a property of the host: looked up once per process). */
let swapLimit: boolean | undefined;
function swapLimitSupported(): boolean {
  swapLimit ??= detectCgroupMode() === 'v2' || existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
  return swapLimit;
}

function newRecord(
  id: string,
  spec: ContainerSpec,
  image: StoredImage,
  hostname: string,
  mounts: MountInfo[],
  anonymousVolumes: string[],
): ContainerRecord {
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

/** hosts, hostname and resolv.conf in the container's `etc/`, bind-mounted by the OCI spec. */
async function writeEtcFiles(
  dir: string,
  spec: ContainerSpec,
  hostname: string,
  network: OciNetwork,
): Promise<{ hosts: string; hostname: string; resolvConf: string }> {
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
      ...(network === 'host'
        ? { network: 'host' as const, hostHosts: await fs.readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n') }
        : { network: 'bridge' as const }),
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

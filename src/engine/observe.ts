/**
 * Observation: what exists for a project, found by compose labels (never by name), plus the images and the
 * expected networks/volumes that carry no label (external or pre-existing ones), looked up by name. The digests
 * of the services' input files (./inputs.ts) are read by `up` and joined to this state as `inputs`.
 */
import type { InputDigests } from '../project/hash.js';
import type { Project } from '../project/types.js';
import { isNotFound } from '../runtime/errors.js';
import type { ContainerStatus, ImageInfo, Labels, MountInfo, NetworkInfo, Runtime, VolumeInfo } from '../runtime/runtime.js';
import type { ServiceInputs } from './inputs.js';
import {
  LABEL_CONFIG_HASH,
  LABEL_CONTAINER_NUMBER,
  LABEL_IMAGE,
  LABEL_INPUTS,
  LABEL_NETWORK,
  LABEL_ONEOFF,
  LABEL_PROJECT,
  LABEL_SERVICE,
  LABEL_VOLUME,
  networkName,
  parseInputsLabel,
  serviceImage,
  volumeName,
} from './labels.js';

export interface ObservedContainer {
  readonly id: string;
  readonly name: string;
  readonly service: string;
  /** 0 when the label is missing or malformed (one-offs have none). */
  readonly number: number;
  readonly oneoff: boolean;
  readonly configHash: string | undefined;
  /** `io.tscompose.inputs`: the digests of the inputs it was made from; absent on containers made before those were kept. */
  readonly inputs?: InputDigests | undefined;
  /** `com.docker.compose.image`: the image digest the container was created for. */
  readonly imageDigest: string | undefined;
  readonly imageId: string;
  readonly status: ContainerStatus;
  readonly labels: Labels;
  /** network name → network id. */
  readonly networks: Readonly<Record<string, string>>;
  readonly mounts: readonly MountInfo[];
}

export interface ObservedNetwork {
  readonly id: string;
  readonly name: string;
  /** The compose key (`com.docker.compose.network`), when labelled. */
  readonly key: string | undefined;
  readonly labels: Labels;
}

export interface ObservedVolume {
  readonly name: string;
  readonly key: string | undefined;
  readonly labels: Labels;
}

export interface ObservedState {
  readonly project: string;
  /** Sorted by service, then number, then name. */
  readonly containers: readonly ObservedContainer[];
  /** By engine name. */
  readonly networks: Readonly<Record<string, ObservedNetwork>>;
  readonly volumes: Readonly<Record<string, ObservedVolume>>;
  /** Local images by the reference the services use; absent = not present locally. */
  readonly images: Readonly<Record<string, ImageInfo>>;
  /**
   * Per service, the digests of its input files and sources (./inputs.ts `readInputs`), when they were read (`up`
   * reads them for the services it brings up); absent: not read, and reconcile takes the recorded ones as current.
   */
  readonly inputs?: Readonly<Record<string, ServiceInputs>> | undefined;
}

export const emptyObservedState = (project: string): ObservedState => ({ project, containers: [], networks: {}, volumes: {}, images: {} });

function toNetwork(n: NetworkInfo): ObservedNetwork {
  return { id: n.id, name: n.name, key: n.labels[LABEL_NETWORK], labels: n.labels };
}
function toVolume(v: VolumeInfo): ObservedVolume {
  return { name: v.name, key: v.labels[LABEL_VOLUME], labels: v.labels };
}

export interface ObserveOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * Observes project `name` (or `project.name`). With a `project`, also inspects the images of its services
 * and, by name, the networks and volumes it expects that were not found by label.
 */
export async function observe(runtime: Runtime, project: Project | string, options: ObserveOptions = {}): Promise<ObservedState> {
  const name = typeof project === 'string' ? project : project.name;
  const call = { signal: options.signal, labels: { [LABEL_PROJECT]: name } };
  const [containers, networks, volumes] = await Promise.all([
    runtime.listContainers({ ...call, all: true }),
    runtime.listNetworks(call),
    runtime.listVolumes(call),
  ]);
  const observedContainers: ObservedContainer[] = containers
    .filter((c) => c.labels[LABEL_SERVICE] !== undefined)
    .map((c) => {
      const num = Number(c.labels[LABEL_CONTAINER_NUMBER]);
      const nets: Record<string, string> = {};
      for (const [n, ep] of Object.entries(c.networks)) nets[n] = ep.networkId;
      return {
        id: c.id,
        name: c.name,
        service: c.labels[LABEL_SERVICE]!,
        number: Number.isInteger(num) && num > 0 ? num : 0,
        oneoff: c.labels[LABEL_ONEOFF] === 'True',
        configHash: c.labels[LABEL_CONFIG_HASH],
        inputs: parseInputsLabel(c.labels[LABEL_INPUTS]),
        imageDigest: c.labels[LABEL_IMAGE],
        imageId: c.imageId,
        status: c.status,
        labels: c.labels,
        networks: nets,
        mounts: c.mounts,
      };
    })
    .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.number - b.number || (a.name < b.name ? -1 : 1)));
  const obsNetworks: Record<string, ObservedNetwork> = {};
  for (const n of networks) obsNetworks[n.name] = toNetwork(n);
  const obsVolumes: Record<string, ObservedVolume> = {};
  for (const v of volumes) obsVolumes[v.name] = toVolume(v);
  const images: Record<string, ImageInfo> = {};

  if (typeof project !== 'string') {
    const lookups: Promise<void>[] = [];
    const optional = async <T>(p: Promise<T>, set: (t: T) => void): Promise<void> => {
      try {
        set(await p);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    };
    for (const [key, cfg] of Object.entries(project.networks ?? {})) {
      const n = networkName(name, key, cfg);
      if (!obsNetworks[n]) lookups.push(optional(runtime.inspectNetwork(n, options), (i) => (obsNetworks[n] = toNetwork(i))));
    }
    for (const [key, cfg] of Object.entries(project.volumes ?? {})) {
      const v = volumeName(name, key, cfg);
      if (!obsVolumes[v]) lookups.push(optional(runtime.inspectVolume(v, options), (i) => (obsVolumes[v] = toVolume(i))));
    }
    const refs = new Set<string>();
    for (const [svcName, svc] of Object.entries(project.services)) refs.add(serviceImage(name, svcName, svc));
    for (const ref of [...refs].sort()) lookups.push(optional(runtime.inspectImage(ref, options), (i) => (images[ref] = i)));
    await Promise.all(lookups);
  }
  return {
    project: name,
    containers: observedContainers,
    networks: sortRecord(obsNetworks),
    volumes: sortRecord(obsVolumes),
    images: sortRecord(images),
  };
}

function sortRecord<T>(r: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}

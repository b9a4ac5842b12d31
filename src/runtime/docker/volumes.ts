/**
 * Volumes on Docker Engine: list, inspect, create (answered with the engine's inspect) and remove. Functions over
 * the adapter's client (DockerCall); DockerRuntime delegates to them.
 */
import type Docker from 'dockerode';
import type { CallOptions, ListOptions, VolumeInfo, VolumeSpec } from '../runtime.js';
import { sig, type DockerCall } from './call.js';
import { toVolumeInfo } from './convert-answers.js';
import { labelFilters } from './convert.js';

export async function listVolumes(d: DockerCall, options: ListOptions = {}): Promise<VolumeInfo[]> {
  const filters = labelFilters(options.labels);
  const res = (await d.call('volume', '*', () => d.docker.listVolumes({ ...(filters ? { filters } : {}), ...sig(options) }))) as {
    Volumes?: Parameters<typeof toVolumeInfo>[0][] | null;
  };
  return (res.Volumes ?? []).map(toVolumeInfo).sort((a, b) => (a.name < b.name ? -1 : 1));
}

export async function inspectVolume(d: DockerCall, name: string, options?: CallOptions): Promise<VolumeInfo> {
  const raw = await d.call('volume', name, () => d.docker.getVolume(name).inspect(sig(options)));
  return toVolumeInfo(raw as unknown as Parameters<typeof toVolumeInfo>[0]);
}

export async function createVolume(d: DockerCall, spec: VolumeSpec, options?: CallOptions): Promise<VolumeInfo> {
  const body: Record<string, unknown> = { Name: spec.name, Labels: { ...spec.labels }, ...sig(options) };
  if (spec.driver !== undefined) body['Driver'] = spec.driver;
  if (spec.driverOpts) body['DriverOpts'] = { ...spec.driverOpts };
  await d.call('volume', spec.name, () => d.docker.createVolume(body as Docker.VolumeCreateOptions));
  return inspectVolume(d, spec.name, options);
}

export async function removeVolume(d: DockerCall, name: string, options?: CallOptions & { force?: boolean | undefined }): Promise<void> {
  await d.call('volume', name, () => d.docker.getVolume(name).remove({ force: options?.force ?? false, ...sig(options) }));
}

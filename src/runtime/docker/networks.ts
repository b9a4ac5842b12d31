/**
 * Networks on Docker Engine: list (each inspected for its attachments), inspect, create, remove, connect and
 * disconnect. Functions over the adapter's client (DockerCall); DockerRuntime delegates to them.
 */
import type Docker from 'dockerode';
import type { CallOptions, EndpointSpec, ListOptions, NetworkInfo, NetworkSpec } from '../runtime.js';
import { invoke, sig, type DockerCall } from './call.js';
import { toNetworkInfo, type RawNetwork } from './convert-answers.js';
import { endpointSettings, labelFilters, toNetworkCreateBody } from './convert.js';

export async function listNetworks(d: DockerCall, options: ListOptions = {}): Promise<NetworkInfo[]> {
  const filters = labelFilters(options.labels);
  const list = await d.call('network', '*', () =>
    d.docker.listNetworks({ ...(filters ? { filters } : {}), ...sig(options) } as Docker.NetworkListOptions),
  );
  // The list endpoint leaves Containers empty: inspect each for attachments.
  return Promise.all((list as unknown as RawNetwork[]).map((n) => inspectNetwork(d, n.Id, options)));
}

export async function inspectNetwork(d: DockerCall, idOrName: string, options?: CallOptions): Promise<NetworkInfo> {
  const raw = await d.call('network', idOrName, () => invoke(d.docker.getNetwork(idOrName), 'inspect', sig(options)));
  return toNetworkInfo(raw as unknown as RawNetwork);
}

export async function createNetwork(d: DockerCall, spec: NetworkSpec, options?: CallOptions): Promise<{ id: string }> {
  const n = await d.call('network', spec.name, () => d.docker.createNetwork({ ...toNetworkCreateBody(spec), ...sig(options) }));
  return { id: n.id };
}

export async function removeNetwork(d: DockerCall, idOrName: string, options?: CallOptions): Promise<void> {
  await d.call('network', idOrName, () => d.docker.getNetwork(idOrName).remove(sig(options)));
}

export async function connectNetwork(
  d: DockerCall,
  network: string,
  container: string,
  endpoint?: Omit<EndpointSpec, 'network'>,
  options?: CallOptions,
): Promise<void> {
  await d.call('network', network, () =>
    d.docker.getNetwork(network).connect({ Container: container, EndpointConfig: endpointSettings(endpoint ?? {}), ...sig(options) }),
  );
}

export async function disconnectNetwork(
  d: DockerCall,
  network: string,
  container: string,
  options?: CallOptions & { force?: boolean | undefined },
): Promise<void> {
  await d.call('network', network, () =>
    d.docker.getNetwork(network).disconnect({ Container: container, Force: options?.force ?? false, ...sig(options) }),
  );
}

/**
 * Containers on Docker Engine: list, inspect, create (networks checked and connected, secrets and configs copied in),
 * the lifecycle calls (start, stop, kill, remove, rename, restart, pause, unpause, wait), top and cp. Functions over
 * the adapter's client (DockerCall); DockerRuntime delegates to them.
 */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { TsComposeError } from '../../errors.js';
import { NotFoundError } from '../errors.js';
import type { CallOptions, ContainerInspect, ContainerSpec, ContainerSummary, ListContainersOptions, ProcessList, WaitOptions } from '../runtime.js';
import { sig, type DockerCall } from './call.js';
import { isAbortError, mapDockerError } from './errors.js';
import { dockerFiles, filesTar, type DockerFiles } from './container-files.js';
import { toContainerInspect, toContainerSummary, type RawContainerInspect, type RawContainerSummary } from './convert-answers.js';
import { labelFilters, toCreateBody } from './convert.js';
import { connectNetwork, inspectNetwork } from './networks.js';

export async function listContainers(d: DockerCall, options: ListContainersOptions = {}): Promise<ContainerSummary[]> {
  const filters = labelFilters(options.labels);
  const list = await d.call('container', '*', () =>
    d.docker.listContainers({ all: options.all !== false, ...(filters ? { filters } : {}), ...sig(options) } as Docker.ContainerListOptions),
  );
  return (list as unknown as RawContainerSummary[])
    .map((c) => toContainerSummary(c))
    .sort((a, b) => a.created - b.created || (a.name < b.name ? -1 : 1));
}

export async function inspectContainer(d: DockerCall, idOrName: string, options?: CallOptions): Promise<ContainerInspect> {
  const raw = await d.call('container', idOrName, () => d.docker.getContainer(idOrName).inspect(sig(options)));
  return toContainerInspect(raw as unknown as RawContainerInspect);
}

export async function createContainer(d: DockerCall, spec: ContainerSpec, options?: CallOptions): Promise<{ id: string }> {
  const inherited = new Map<string, string>();
  if (spec.inheritVolumesFrom !== undefined) {
    try {
      const old = await inspectContainer(d, spec.inheritVolumesFrom, options);
      for (const m of old.mounts) if (m.type === 'volume' && m.source) inherited.set(m.target, m.source);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  // Secrets and configs: bound, or copied in before start with their mode and owner (./container-files.ts).
  const files = await dockerFiles(spec);
  const { body, connectAfter } = toCreateBody({ ...spec, files: files.bound }, inherited);
  // The engine accepts missing networks at create (and connect) time and only fails at start: check them first.
  if (spec.networkMode === undefined) await Promise.all((spec.networks ?? []).map((ep) => inspectNetwork(d, ep.network, options)));
  const container = await d.call('container', spec.name, () => d.docker.createContainer({ ...body, ...sig(options) }));
  try {
    for (const ep of connectAfter) await connectNetwork(d, ep.network, container.id, ep, options);
    await copyFiles(d, container.id, files, options);
  } catch (e) {
    // all or nothing: a half-attached container would look up to date to the next `up`
    await removeContainer(d, container.id, { force: true }).catch(() => undefined);
    throw e;
  }
  return { id: container.id };
}

/** Secrets/configs to copy in: a tar of the files, extracted at `/` (owners kept when a reference gives one). */
async function copyFiles(d: DockerCall, id: string, files: DockerFiles, options?: CallOptions): Promise<void> {
  const tar = await filesTar(files.copied);
  if (tar === undefined) return;
  await d.call('container', `${id}:/`, () =>
    d.docker.getContainer(id).putArchive(tar, { path: '/', ...(files.keepOwners ? { copyUIDGID: true } : {}), ...sig(options) }),
  );
}

/**
 * A lifecycle call on an existing container. The engine's plans and the lifecycle commands name it by id; a failure
 * names it as the first `up` does, `container NAME: …` (the name from an inspect made only then), as the native
 * runtime's errors do. Nothing to do (304), no such container (404) and aborts keep the ref they were given.
 */
async function lifecycleCall(d: DockerCall, idOrName: string, fn: (c: Docker.Container) => Promise<unknown>): Promise<void> {
  const container = d.docker.getContainer(idOrName);
  try {
    await fn(container);
  } catch (e) {
    const status = (e as { statusCode?: number } | undefined)?.statusCode;
    if (isAbortError(e) || status === 304 || status === 404 || !/^[0-9a-f]{12,64}$/.test(idOrName)) throw mapDockerError(e, 'container', idOrName);
    const name = await container.inspect().then(
      (i) => i.Name.replace(/^\//, '') || idOrName,
      () => idOrName,
    );
    throw mapDockerError(e, 'container', name);
  }
}

export async function startContainer(d: DockerCall, idOrName: string, options?: CallOptions): Promise<void> {
  await lifecycleCall(d, idOrName, (c) => c.start(sig(options)));
}

export async function stopContainer(d: DockerCall, idOrName: string, options?: CallOptions & { timeoutSeconds?: number | undefined }): Promise<void> {
  await lifecycleCall(d, idOrName, (c) =>
    c.stop({ ...(options?.timeoutSeconds !== undefined ? { t: options.timeoutSeconds } : {}), ...sig(options) }),
  );
}

export async function killContainer(d: DockerCall, idOrName: string, options?: CallOptions & { killSignal?: string | undefined }): Promise<void> {
  await lifecycleCall(d, idOrName, (c) => c.kill({ ...(options?.killSignal ? { signal: options.killSignal } : {}), ...sig(options) }));
}

export async function removeContainer(
  d: DockerCall,
  idOrName: string,
  options?: CallOptions & { force?: boolean | undefined; volumes?: boolean | undefined },
): Promise<void> {
  await d.call('container', idOrName, () =>
    d.docker
      .getContainer(idOrName)
      .remove({ force: options?.force ?? false, v: options?.volumes ?? false, ...sig(options) } as Docker.ContainerRemoveOptions),
  );
}

export async function renameContainer(d: DockerCall, idOrName: string, newName: string, options?: CallOptions): Promise<void> {
  await d.call('container', idOrName, () => d.docker.getContainer(idOrName).rename({ name: newName, ...sig(options) }));
}

export async function restartContainer(
  d: DockerCall,
  idOrName: string,
  options?: CallOptions & { timeoutSeconds?: number | undefined },
): Promise<void> {
  await lifecycleCall(d, idOrName, (c) =>
    c.restart({ ...(options?.timeoutSeconds !== undefined ? { t: options.timeoutSeconds } : {}), ...sig(options) }),
  );
}

export async function pauseContainer(d: DockerCall, idOrName: string, options?: CallOptions): Promise<void> {
  await lifecycleCall(d, idOrName, (c) => c.pause(sig(options)));
}

export async function unpauseContainer(d: DockerCall, idOrName: string, options?: CallOptions): Promise<void> {
  await lifecycleCall(d, idOrName, (c) => c.unpause(sig(options)));
}

export async function waitContainer(d: DockerCall, idOrName: string, options?: WaitOptions): Promise<number> {
  const res = (await d.call('container', idOrName, () =>
    d.docker.getContainer(idOrName).wait({ condition: options?.condition ?? 'not-running', ...sig(options) } as Docker.ContainerWaitOptions),
  )) as { StatusCode?: number; Error?: { Message?: string } | null };
  if (res.Error?.Message) throw new TsComposeError('TSC_DOCKER', `waiting for container ${idOrName}: ${res.Error.Message}`);
  return res.StatusCode ?? 0;
}

export async function topContainer(d: DockerCall, idOrName: string, options?: CallOptions & { psArgs?: string | undefined }): Promise<ProcessList> {
  const res = (await d.call('container', idOrName, () =>
    d.docker.getContainer(idOrName).top({ ...(options?.psArgs ? { ps_args: options.psArgs } : {}), ...sig(options) }),
  )) as { Titles?: string[] | null; Processes?: string[][] | null };
  return { titles: res.Titles ?? [], processes: res.Processes ?? [] };
}

// -- cp ------------------------------------------------------------------------------------------------------------

export async function copyToContainer(d: DockerCall, idOrName: string, path: string, tar: Readable, options?: CallOptions): Promise<void> {
  await d.call('container', `${idOrName}:${path}`, () => d.docker.getContainer(idOrName).putArchive(tar, { path, ...sig(options) }));
}

export async function copyFromContainer(d: DockerCall, idOrName: string, path: string, options?: CallOptions): Promise<Readable> {
  const s = await d.call('container', `${idOrName}:${path}`, () => d.docker.getContainer(idOrName).getArchive({ path, ...sig(options) }));
  return s as unknown as Readable;
}

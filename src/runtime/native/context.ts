/**
 * The native runtime's context, built in one place for every process of the runtime (the CLI's NativeRuntime,
 * conmon's exit hook, the health monitor): where its state lives, the settings read from the environment (every
 * `TSCOMPOSE_*` variable the runtime reads is read here, once, with DOCKER_CONFIG; the libraries below read none),
 * the container records, the OCI runtime, the networks and the image service. What costs something to set up is
 * made on first use: choosing the OCI runtime reads the host's cgroup setup and PATH, and the image service (the
 * image store and registry client, ~20 modules) is loaded only by commands that need an image, never by the exit
 * hook; it reads daemon.json when its store is first used, the Docker CLI config when a registry asks for credentials.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RegistrySettings } from '../../lib/image/registry-config.js';
import type { NativeNetworks } from '../../lib/net/index.js';
import { sharedSpawner, Spawner } from '../../lib/proc/spawner.js';
import type { NativeImages } from './images.js';
import { networksOf } from './netglue.js';
import { chooseOciRuntime, OciRuntime } from './oci/oci-runtime.js';
import { PROTECTED_BINARY_DIR } from './oci/runtime-binary.js';
import { resolveRemap, type IdRange } from './userns/idmap.js';
import { appendEvent } from './events-file.js';
import { nativePaths, StateStore, type NativePaths } from './state.js';

/** The environment variables of the native runtime, read once. */
export interface NativeSettings {
  /** `TSCOMPOSE_OCI_RUNTIME`: `runc`, `crun` or an absolute path; otherwise chosen from the host. */
  readonly ociRuntime: string | undefined;
  /** `TSCOMPOSE_OCI_FAST=0` turns off the fast paths of kill and delete (oci/oci-fast.ts). */
  readonly ociFastPaths: boolean;
  /**
   * `TSCOMPOSE_OCI_BINARY_MOUNT=0` launches the OCI runtime as it is, not from its read-only bind mount
   * (oci/runtime-binary.ts).
   */
  readonly ociBinaryMount: boolean;
  /**
   * The image store's registries (lib/image/registry-config.ts): `TSCOMPOSE_REGISTRY_MIRRORS` and
   * `TSCOMPOSE_INSECURE_REGISTRIES` (comma- or space-separated) come before the `registry-mirrors` /
   * `insecure-registries` of /etc/docker/daemon.json (`TSCOMPOSE_DOCKER_DAEMON_JSON` names another; empty: none);
   * credentials from `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. Only names here: the files are read
   * when the image store first needs them.
   */
  readonly registry: RegistrySettings;
  /**
   * `TSCOMPOSE_USERNS_REMAP`: the user-namespace remap of every native container (dockerd's `userns-remap`), unset by
   * default: `default` (the subordinate ids of user `tscompose`, allocated in /etc/subuid and /etc/subgid when
   * missing), `USER[:GROUP]` or `UID:GID:SIZE` (./userns/idmap.ts). Resolved on first use (`NativeContext.userns`).
   */
  readonly usernsRemap: string | undefined;
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(/[,\s]+/).filter((s) => s !== '');
}

export function nativeSettings(env: NodeJS.ProcessEnv): NativeSettings {
  const daemonJson = env.TSCOMPOSE_DOCKER_DAEMON_JSON ?? '/etc/docker/daemon.json';
  return {
    ociRuntime: env.TSCOMPOSE_OCI_RUNTIME,
    ociFastPaths: env.TSCOMPOSE_OCI_FAST !== '0',
    ociBinaryMount: env.TSCOMPOSE_OCI_BINARY_MOUNT !== '0',
    usernsRemap: env.TSCOMPOSE_USERNS_REMAP,
    registry: {
      mirrors: splitList(env.TSCOMPOSE_REGISTRY_MIRRORS),
      insecure: splitList(env.TSCOMPOSE_INSECURE_REGISTRIES),
      daemonJsonPath: daemonJson === '' ? undefined : daemonJson,
      dockerConfigPath: join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json'),
    },
  };
}

const INIT_BINARY_CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/catatonit', '/usr/libexec/podman/catatonit'];

export class NativeContext {
  /** `TSCOMPOSE_STATE_DIR` and `TSCOMPOSE_RUN_DIR` (./state.ts). */
  readonly paths: NativePaths;
  readonly settings: NativeSettings;
  readonly state: StateStore;
  private ociCache: OciRuntime | undefined;
  private networksCache: NativeNetworks | undefined;
  private imagesCache: Promise<NativeImages> | undefined;
  private initCache: { path: string | undefined } | undefined;
  private usernsCache: { range: IdRange | undefined } | undefined;
  private spawnerCache: Spawner | undefined;

  /** `env` gives the paths and settings and is handed to conmon (and so to the exit hook and health monitor, which build their context from it). */
  constructor(readonly env: NodeJS.ProcessEnv = process.env) {
    this.paths = nativePaths({ stateDir: env.TSCOMPOSE_STATE_DIR, runDir: env.TSCOMPOSE_RUN_DIR });
    this.settings = nativeSettings(env);
    this.state = new StateStore(this.paths);
  }

  /** The OCI runtime (runc or crun); throws TSC_OCI_RUNTIME_MISSING when none is installed. */
  get oci(): OciRuntime {
    if (!this.ociCache) {
      const choice = chooseOciRuntime(this.settings.ociRuntime);
      this.ociCache = new OciRuntime(choice.path, this.paths.ociRoot, {
        ...(this.settings.ociFastPaths ? {} : { noFastPaths: true }),
        ...(this.settings.ociBinaryMount ? { protectedBinaryDir: PROTECTED_BINARY_DIR } : {}),
      });
    }
    return this.ociCache;
  }

  /**
   * The helper that starts the hot path's processes (mount, conmon, umount) so this large process does not fork
   * for each (lib/proc/spawner.ts): the process's shared one, unless this context has an environment of its own.
   * TSCOMPOSE_SPAWNER=0 spawns them directly.
   */
  get spawner(): Spawner {
    this.spawnerCache ??= this.env === process.env ? sharedSpawner() : new Spawner(this.env, { direct: this.env.TSCOMPOSE_SPAWNER === '0' });
    return this.spawnerCache;
  }

  /** The bridge networks' state (lib/net), under `<state>/net`. */
  get networks(): NativeNetworks {
    this.networksCache ??= networksOf(this.paths);
    return this.networksCache;
  }

  /** The image service (./images.ts) over the image store under `<state>/images`, loaded on first use. */
  images(): Promise<NativeImages> {
    this.imagesCache ??= import('./images.js').then(
      ({ NativeImages }) =>
        new NativeImages({
          paths: this.paths,
          registry: this.settings.registry,
          imagesInUse: async () => new Set((await this.state.all()).map((r) => r.imageId)),
        }),
    );
    return this.imagesCache;
  }

  /** The init process for `init: true` (tini or catatonit), if one is installed. */
  initBinary(): string | undefined {
    this.initCache ??= { path: INIT_BINARY_CANDIDATES.find((p) => existsSync(p)) };
    return this.initCache.path;
  }

  /**
   * The user-namespace remap's id range (TSCOMPOSE_USERNS_REMAP), undefined when off; reads /etc/subuid and
   * /etc/subgid on first use. Throws TSC_INVALID_USERNS_REMAP for a setting that names no range.
   */
  userns(): IdRange | undefined {
    this.usernsCache ??= { range: resolveRemap(this.settings.usernsRemap) };
    return this.usernsCache.range;
  }

  /** Where the chowned copies of image layers for a remap live (./userns/layers.ts). */
  get usernsLayers(): string {
    return join(this.paths.root, 'userns');
  }

  /** Appends an event to `<state>/events.jsonl`. */
  event(event: Parameters<typeof appendEvent>[1]): Promise<void> {
    return appendEvent(this.paths, event);
  }
}

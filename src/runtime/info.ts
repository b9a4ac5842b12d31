/**
 * What backends report (part of the runtime port, ./runtime.ts, which re-exports it): containers, networks,
 * volumes, images, exec results, logs, events, progress. Neutral DTOs.
 */
import type { Readable } from 'node:stream';
import type { Labels, PortProtocol } from './spec.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One network endpoint of a container. */
export interface EndpointInfo {
  readonly networkId: string;
  readonly aliases: readonly string[];
  readonly ipAddress?: string;
}

export interface MountInfo {
  readonly type: 'bind' | 'volume' | 'tmpfs' | 'image';
  /** Volume name (volume mounts) or host path (bind mounts). */
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

export interface ContainerSummary {
  readonly id: string;
  /** Without the leading slash. */
  readonly name: string;
  /** The image as given at create time. */
  readonly image: string;
  readonly imageId: string;
  readonly labels: Labels;
  readonly status: ContainerStatus;
  /** Unix milliseconds. */
  readonly created: number;
  /** network name → endpoint. */
  readonly networks: Readonly<Record<string, EndpointInfo>>;
  readonly mounts: readonly MountInfo[];
  /** Ports actually published on the host (absent when the backend does not report them). */
  readonly publishedPorts?: readonly PublishedPort[];
}

/** A container port published on the host (what `ps` and `port` show). */
export interface PublishedPort {
  readonly containerPort: number;
  readonly protocol: PortProtocol;
  readonly hostIp?: string;
  readonly hostPort?: number;
}

export interface ContainerInspect extends ContainerSummary {
  readonly exitCode: number;
  /** The main process's arguments, the program first (Docker's Path and Args); absent when the backend cannot say. */
  readonly command?: readonly string[];
  readonly health?: HealthStatus;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

export interface NetworkInfo {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly labels: Labels;
  readonly internal: boolean;
  readonly attachable: boolean;
  /** Container ids attached. */
  readonly containers: readonly string[];
}

export interface VolumeInfo {
  readonly name: string;
  readonly driver: string;
  readonly labels: Labels;
  readonly mountpoint?: string;
}

export interface ImageInfo {
  /** `sha256:…` content id. */
  readonly id: string;
  /** `repo@sha256:…` registry digests. */
  readonly repoDigests: readonly string[];
  readonly repoTags: readonly string[];
}

/** A local image as `images` lists it. */
export interface ImageSummary extends ImageInfo {
  readonly labels: Labels;
  /** Unix milliseconds. */
  readonly created: number;
  readonly sizeBytes: number;
}

/** One pull progress event (one per layer update; `layer` absent for image-level messages). */
export interface PullProgress {
  readonly ref: string;
  readonly layer?: string;
  readonly status: string;
  readonly current?: number;
  readonly total?: number;
}

/** One push progress event (one per layer update). */
export interface PushProgress {
  readonly ref: string;
  readonly layer?: string;
  readonly status: string;
  readonly current?: number;
  readonly total?: number;
}

/** A build step as progress shows it: `[web 3/7] RUN …` (the stage only in multi-stage Dockerfiles). */
export interface BuildStep {
  /** Unique within the build. */
  readonly id: string;
  readonly stage?: string | undefined;
  readonly number: number;
  readonly total: number;
  /** The instruction as written. */
  readonly text: string;
  readonly status: 'running' | 'cached' | 'done' | 'error';
  readonly durationMs?: number | undefined;
  /** With `error`: what failed, when the builder says. */
  readonly error?: string | undefined;
}

/**
 * One build progress event: `text` always (a line of builder output, or the step line as docker compose prints it);
 * builders that know their steps add `step` (a step started, was found in the cache, finished or failed) or
 * `output` (what a step's process wrote, with the step it belongs to).
 */
export interface BuildProgress {
  readonly text: string;
  readonly step?: BuildStep | undefined;
  readonly output?: { readonly stepId: string; readonly stream: 'stdout' | 'stderr' } | undefined;
}

/** The outcome of a buffered `exec`. Output is decoded as UTF-8. */
export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running exec (`execStream`): read its output as it comes, then `wait()` for the exit code. */
export interface ExecSession {
  /** Ends when the process ends. */
  readonly stdout: Readable;
  /** Ends when the process ends; always empty with `tty`. */
  readonly stderr: Readable;
  /** Resolves with the exit code once the process has exited and both streams have ended. */
  wait(): Promise<number>;
  /** Sets the size of the process's terminal (`tty`); nothing without one. Absent when the backend cannot size it. */
  resize?(size: { readonly rows: number; readonly columns: number }): Promise<void>;
}

/**
 * A client attached to a container's main process (`attachContainer`): its output as the bytes it writes, from the
 * attach on, and its stdin.
 */
export interface AttachSession {
  /** The container has a TTY: its output all arrives on `stdout`, and `resize` applies. */
  readonly tty: boolean;
  /** The given stdin reaches the container (it was given one and the container has an open stdin). */
  readonly stdin: boolean;
  /** Ends when the container's process ends (once started, for an attach before the start), or on `close()`. */
  readonly stdout: Readable;
  /** As `stdout`; always empty with `tty`. */
  readonly stderr: Readable;
  /** Sets the container's terminal size; nothing without `tty` or when the backend has no terminal to size. */
  resize(size: { readonly rows: number; readonly columns: number }): Promise<void>;
  /** Detaches: stdin is no longer read, the output streams end; the container keeps running. */
  close(): void;
}

/** One line of container output, without its trailing newline. */
export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  /** RFC 3339 with nanoseconds, as the engine reports it; only with `timestamps: true`. */
  readonly timestamp?: string;
}

/** `ps`-style process table of a container (`top`). */
export interface ProcessList {
  readonly titles: readonly string[];
  readonly processes: readonly (readonly string[])[];
}

/** One engine event: `container start`, `network connect`, … */
export interface RuntimeEvent {
  /** `container`, `network`, `volume`, `image`, … */
  readonly type: string;
  /** `create`, `start`, `die`, `stop`, `kill`, `destroy`, `pause`, `unpause`, `rename`, `health_status: healthy`, … */
  readonly action: string;
  /** Container/network id, volume name or image ref. */
  readonly id: string;
  /** Labels of the object plus engine attributes (`name`, `image`, `exitCode`, `container`, …). */
  readonly attributes: Labels;
  /** Unix milliseconds. */
  readonly time: number;
}

/**
 * One resource-usage reading of a container (`stats`), in plain units. Counters (`cpuNs`, `systemCpuNs`, network and
 * block I/O) only grow: CPU % is the change of `cpuNs` over the change of `systemCpuNs` between two samples, times
 * `onlineCpus` × 100 (as `docker stats`). A container that is not running reads as zeros.
 */
export interface StatsSample {
  /** Unix milliseconds when read. */
  readonly read: number;
  /** CPU time the container's processes used, nanoseconds. */
  readonly cpuNs: number;
  /** CPU time of the whole host (every CPU) so far, nanoseconds; 0 when unknown. */
  readonly systemCpuNs: number;
  /** CPUs the host has online. */
  readonly onlineCpus: number;
  /** Memory in use, without the page cache that can be dropped (inactive files), as `docker stats` shows it. */
  readonly memoryBytes: number;
  /** The container's memory limit, or the host's memory when it has none. */
  readonly memoryLimitBytes: number;
  readonly netRxBytes: number;
  readonly netTxBytes: number;
  readonly blockReadBytes: number;
  readonly blockWriteBytes: number;
  readonly pids: number;
}

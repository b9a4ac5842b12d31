/**
 * The native builder's interfaces: what it asks of the runtime that runs `RUN` steps (BuildWorker), what it is
 * given (BuildOptions) and what it reports (BuildEvent). The builder itself (builder.ts, steps.ts) knows nothing of
 * containers: a worker runs one process over a prepared root filesystem.
 */
import type { StoredImage } from '../../image/records.js';
import type { ImageStore } from '../../image/store.js';
import type { DockerIgnore } from '../context/ignore.js';

/** A host path or tmpfs mounted into a RUN step's container. */
export interface RunMount {
  readonly type: 'bind' | 'tmpfs';
  /** Host path (bind). */
  readonly source?: string;
  readonly target: string;
  readonly readOnly: boolean;
}

export type RunNetwork = 'default' | 'none' | 'host';

/** One RUN step's process. */
export interface RunRequest {
  /** Unique per run (a container id). */
  readonly id: string;
  /** The step's root filesystem, mounted read-write (the builder commits its upper directory afterwards). */
  readonly rootfs: string;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  /** `user[:group]` as the Dockerfile's USER gave it ('' = root). */
  readonly user: string;
  readonly network: RunNetwork;
  readonly mounts: readonly RunMount[];
  /** `host:ip` entries for /etc/hosts. */
  readonly extraHosts: readonly string[];
  readonly shmSizeBytes?: number | undefined;
  readonly onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  readonly signal?: AbortSignal | undefined;
}

/** What runs RUN steps (the native runtime's OCI runtime, in src/runtime/native/build). */
export interface BuildWorker {
  /**
   * Runs the process and resolves with its exit status once it and everything it started are gone. Mount points
   * it had to create in `rootfs` that did not exist there are removed again (they must not end up in the layer).
   */
  run(req: RunRequest): Promise<number>;
  /** The uid and gid of `user[:group]` in `rootfs` (names from its /etc/passwd and /etc/group). */
  resolveUser(rootfs: string, user: string): Promise<{ uid: number; gid: number }>;
}

/** A build secret: a file, or bytes (an environment variable's value). */
export type BuildSecret = { readonly file: string } | { readonly content: Buffer };

export interface BuildOptions {
  readonly store: ImageStore;
  readonly worker: BuildWorker;
  /** A directory for the build's scratch space (mounted roots, upper dirs) and the persistent cache mounts. */
  readonly workRoot: string;
  /** The context directory (absolute). */
  readonly context: string;
  /** The Dockerfile's text and its name for messages (a path, or `Dockerfile` for inline ones). */
  readonly dockerfile: { readonly text: string; readonly name: string };
  readonly ignore?: DockerIgnore | undefined;
  readonly buildArgs?: Readonly<Record<string, string>> | undefined;
  readonly target?: string | undefined;
  /** Added to the image's labels (compose `build.labels`). */
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly tags: readonly string[];
  readonly noCache?: boolean | undefined;
  /** Images whose recorded build steps (built here, pulled when missing) seed the cache (compose `cache_from`). */
  readonly cacheFrom?: readonly string[] | undefined;
  /** Pull base images even when present. */
  readonly pull?: boolean | undefined;
  readonly network?: RunNetwork | undefined;
  readonly extraHosts?: readonly string[] | undefined;
  readonly shmSizeBytes?: number | undefined;
  readonly secrets?: Readonly<Record<string, BuildSecret>> | undefined;
  /** compose `additional_contexts`: a name COPY --from= / FROM can use, mapped to a directory. */
  readonly additionalContexts?: Readonly<Record<string, string>> | undefined;
  /** The image a FROM or COPY --from names, pulled when missing (or always with `pull`). */
  readonly baseImage: (ref: string, options: { readonly pull: boolean; readonly signal?: AbortSignal | undefined }) => Promise<StoredImage>;
  readonly onEvent?: ((event: BuildEvent) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A step as progress shows it: `[stage 3/7] RUN …` (stage only in multi-stage Dockerfiles). */
export interface StepRef {
  /** Unique in the build: `<stage index>/<step number>`. */
  readonly id: string;
  readonly stage: string | undefined;
  readonly number: number;
  readonly total: number;
  /** The instruction as written (`RUN apt-get update`). */
  readonly text: string;
}

export type BuildEvent =
  | { readonly type: 'step'; readonly step: StepRef; readonly status: 'running' | 'cached' | 'done' | 'error'; readonly durationMs?: number }
  | { readonly type: 'output'; readonly step: StepRef; readonly stream: 'stdout' | 'stderr'; readonly text: string }
  | { readonly type: 'warning'; readonly text: string };

/** `[stage 3/7]`. */
export function stepLabel(s: StepRef): string {
  return `[${s.stage !== undefined ? `${s.stage} ` : ''}${s.number}/${s.total}]`;
}

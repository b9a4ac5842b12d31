/**
 * What the per-resource modules of the Docker adapter share: the dockerode client, engine errors mapped onto the
 * runtime port's (`call`), abort signals in dockerode's shape (`sig`), and calls its typings lag behind (`invoke`).
 */
import type Docker from 'dockerode';
import type { CallOptions } from '../runtime.js';

export type ResourceKind = 'container' | 'network' | 'volume' | 'image';

export interface DockerCall {
  readonly docker: Docker;
  /** Runs `fn`, mapping an engine error onto the runtime port's typed errors (NotFound for `kind` `ref`, …). */
  call<T>(kind: ResourceKind, ref: string, fn: () => Promise<T>): Promise<T>;
}

export type Sig = { abortSignal?: AbortSignal };

export const sig = (options?: CallOptions): Sig => (options?.signal ? { abortSignal: options.signal } : {});

/** Calls a dockerode method whose typings lag behind it (options with `abortSignal` everywhere). */
export function invoke(target: object, method: string, opts: object): Promise<unknown> {
  return (target as Record<string, (o: object) => Promise<unknown>>)[method]!(opts);
}

/**
 * What the runtime contract suite (./suite.ts) gives its case files (./containers.ts, ./ports.ts, …): the runtime
 * and its capabilities, the run's names and labels, the helpers that create labelled containers, and the matchers
 * and waits the cases share. Its own file so that the case files need not import the suite (which imports them).
 */
import type { ContainerSpec, LogLine, LogsOptions, Runtime } from '../runtime.js';
import type { ContractCapabilities } from './capabilities.js';

/** Image refs present (or pullable) on the runtime: busybox, and python for the UDP server. */
export interface ContractImages {
  readonly busybox: string;
  readonly python: string;
}

/**
 * One run of the suite, as its cases see it. The runtime, capabilities and images are read when a case runs (the
 * target is built in the suite's beforeAll); names and labels are known when the cases are declared.
 */
export interface ContractScope {
  /** The run's random id: the value of the label LABEL on everything the run creates. */
  readonly runId: string;
  /** `tsc-contract-<runId>`: the start of every name the run gives. */
  readonly prefix: string;
  /** `{ [LABEL]: runId }`: the labels of everything the run creates (and cleans up after each case and the suite). */
  readonly labels: Readonly<Record<string, string>>;
  runtime(): Runtime;
  capabilities(): ContractCapabilities;
  images(): ContractImages;
  /** `<prefix>-<suffix>`. */
  n(suffix: string): string;
  /** Creates a labelled busybox container on the suite's network (a sleeper with an init unless `spec` says); its name. */
  create(suffix: string, spec?: Partial<ContainerSpec>): Promise<string>;
  /** Creates and starts one. */
  run(suffix: string, spec?: Partial<ContainerSpec>): Promise<string>;
  /** A container's log lines (`containerLogs`), collected. */
  logs(container: string, options?: LogsOptions): Promise<LogLine[]>;
}

/** The label that marks what a run creates; its value is the run's id. */
export const LABEL = 'org.tscompose.contract';

/**
 * The typed errors of ../errors.ts, matched by their stable code rather than by class: the native contract drives the
 * built adapter (dist/), whose error classes are other copies of the same ones.
 */
export const NOT_FOUND = { code: 'TSC_NOT_FOUND' };
export const CONFLICT = { code: 'TSC_CONFLICT' };
export const NOT_MODIFIED = { code: 'TSC_NOT_MODIFIED' };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(200);
  }
}

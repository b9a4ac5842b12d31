/**
 * The Runtime contract: one set of jest cases every adapter of the runtime port (../runtime.ts) must pass, as
 * containerd's snapshotter testsuite is for snapshotters. `runtimeContract(name, target)` declares them; each adapter
 * runs them from its own `*.contract.test.ts` (fake always, Docker when it answers, native as root with runc and
 * conmon). An adapter that cannot run here is skipped with the reason printed, unless TSCOMPOSE_E2E=1, when it fails.
 *
 * The cases live in files by concern, each declaring its jest tests inside this describe through a ContractScope
 * (./scope.ts: the runtime, the run's names and labels, helpers to create containers); they run in the order declared
 * below: containers (./containers.ts: lifecycle and typed errors, exit codes, prepared starts; labels, rename; pause,
 * stats), logs, exec (with stdin: ./exec-stdin.ts; TTYs: ./tty.ts), attach (stdin and output), published ports (fixed,
 * ephemeral, a range, udp), volumes, networks and DNS, images (importImage, export and commit), and the host side
 * (project locks and dirs, resumable containers, checkState, sysctls). Where the fake cannot do what a real backend
 * does, the target says so in `capabilities` (each flag says what it stands for) and the case checks everything else.
 *
 * Everything a run creates is named `tsc-contract-<random>-…`, carries the label `org.tscompose.contract=<random>`,
 * and is removed after each case (containers) and after the suite (networks, volumes). Traffic goes only to
 * 127.0.0.1 and to the containers the suite created.
 */
import { afterAll, afterEach, beforeAll, describe } from '@jest/globals';
import type { ContainerSpec, LogLine, LogsOptions, Runtime } from '../runtime.js';
import { attachCases } from './attach.js';
import type { ContractCapabilities } from './capabilities.js';
import { labelsAndRenameCases, lifecycleCases, pauseAndStatsCases, preparedStartCases } from './containers.js';
import { execCases } from './exec.js';
import { execStdinCases } from './exec-stdin.js';
import { hostCases } from './host.js';
import { imagesCases } from './images.js';
import { logsCases } from './logs.js';
import { networksCases } from './networks.js';
import { portsCases } from './ports.js';
import { LABEL, type ContractImages, type ContractScope } from './scope.js';
import { ttyCases } from './tty.js';
import { volumesCases } from './volumes.js';

export type { ContractCapabilities } from './capabilities.js';
export type { ContractImages } from './scope.js';

export interface ContractTarget {
  readonly runtime: Runtime;
  readonly images: ContractImages;
  readonly capabilities: ContractCapabilities;
  /** Called after the suite's own clean-up (temp state, images). */
  readonly cleanup?: () => Promise<void>;
}

export interface ContractOptions {
  /** Why the adapter cannot run here (undefined = it can). */
  readonly unavailable: string | undefined;
  /** Builds the target (pull images, …); runs in beforeAll. */
  readonly setup: () => Promise<ContractTarget>;
  /** beforeAll timeout (image pulls), default 300 s. */
  readonly setupTimeoutMs?: number;
}

const required = process.env.TSCOMPOSE_E2E === '1';
const SLEEPER = ['sleep', '3600'];

async function collect(it: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

export function runtimeContract(name: string, options: ContractOptions): void {
  const describeIf = options.unavailable === undefined || required ? describe : describe.skip;
  if (options.unavailable !== undefined && !required) console.log(`runtime contract (${name}) skipped: ${options.unavailable}`);

  describeIf(`runtime contract: ${name}`, () => {
    const runId = Math.random().toString(36).slice(2, 8);
    const prefix = `tsc-contract-${runId}`;
    const labels = { [LABEL]: runId };
    let target: ContractTarget;
    let rt: Runtime;
    let net: string;

    const n = (suffix: string): string => `${prefix}-${suffix}`;
    const create = async (suffix: string, spec: Partial<ContainerSpec> = {}): Promise<string> => {
      await rt.createContainer({
        name: n(suffix),
        image: target.images.busybox,
        command: SLEEPER,
        init: true,
        networks: [{ network: net }],
        ...spec,
        labels: { ...labels, ...spec.labels },
      });
      return n(suffix);
    };
    const run = async (suffix: string, spec: Partial<ContainerSpec> = {}): Promise<string> => {
      const c = await create(suffix, spec);
      await rt.startContainer(c);
      return c;
    };
    const logs = async (c: string, o: LogsOptions = {}): Promise<LogLine[]> => collect(rt.containerLogs(c, o));
    const scope: ContractScope = {
      runId,
      prefix,
      labels,
      runtime: () => rt,
      capabilities: () => target.capabilities,
      images: () => target.images,
      n,
      create,
      run,
      logs,
    };

    beforeAll(async () => {
      if (options.unavailable !== undefined) throw new Error(`TSCOMPOSE_E2E=1 but the ${name} runtime cannot run here: ${options.unavailable}`);
      target = await options.setup();
      rt = target.runtime;
      net = n('net');
      await rt.createNetwork({ name: net, labels });
    }, options.setupTimeoutMs ?? 300_000);

    afterEach(async () => {
      if (!rt) return;
      for (const c of await rt.listContainers({ all: true, labels }))
        await rt.removeContainer(c.id, { force: true, volumes: true }).catch(() => undefined);
    }, 60_000);

    afterAll(async () => {
      if (rt) {
        for (const c of await rt.listContainers({ all: true, labels }))
          await rt.removeContainer(c.id, { force: true, volumes: true }).catch(() => undefined);
        for (const x of await rt.listNetworks({ labels })) await rt.removeNetwork(x.id).catch(() => undefined);
        for (const v of await rt.listVolumes({ labels })) await rt.removeVolume(v.name, { force: true }).catch(() => undefined);
      }
      await target?.cleanup?.();
    }, 120_000);

    // The cases, in the order they run (the order of the file they were once all in).
    lifecycleCases(scope); // ./containers.ts
    preparedStartCases(scope); // ./containers.ts
    logsCases(scope);
    execCases(scope);
    execStdinCases(scope);
    ttyCases(scope);
    attachCases(scope);
    portsCases(scope);
    volumesCases(scope);
    networksCases(scope);
    labelsAndRenameCases(scope); // ./containers.ts
    imagesCases(scope);
    pauseAndStatsCases(scope); // ./containers.ts
    hostCases(scope);
  });
}

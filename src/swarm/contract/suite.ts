/**
 * The Swarm port's contract (../port.ts): one set of jest cases both adapters pass, the in-memory fake
 * (../fake/swarm-fake.contract.test.ts) and Docker Engine (test/e2e/swarm-docker.contract.test.ts, on a throwaway
 * single-node swarm in a network namespace: test/e2e/swarm-harness.ts). What it holds them to is what Docker Engine
 * 20.10+ does as a swarm manager:
 * - swarmInfo names a manager of a swarm of ≥ 1 node; listNodes has a ready manager;
 * - services: create, list by label, inspect by name and id, update from the current version (the version grows,
 *   the old spec becomes previousSpec), an update from a stale version and a second service of the same name are
 *   Conflict, rollback goes back to the previous spec, a missing service is NotFound, remove;
 * - tasks: a replicated busybox service gets a task per slot that reaches `running` on a node with a container;
 *   scaling adds slots; listTasks of a missing service is NotFound;
 * - service logs in the format of ./log-format.ts (the fake prints through the target's `print`);
 * - secrets and configs: create, list by label, secret/config references by name resolved, remove refused
 *   (Conflict) while a service uses them and possible once it is gone, a missing one NotFound;
 * - networks: an overlay with labels created, listed by label, a duplicate name Conflict, removed.
 *
 * Everything a run creates is named `tscsw-contract-<random>-…`, carries the label `org.tscompose.contract=<random>`,
 * and is removed after the suite. Set TSCOMPOSE_E2E=1 to fail instead of skipping when the adapter cannot run.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Readable } from 'node:stream';
import { isConflict, isNotFound } from '../../runtime/errors.js';
import type { ServiceSpec } from '../api-types.js';
import type { SwarmApi, SwarmTask } from '../port.js';
import { parseServiceLogLine, SERVICE_ID, TASK_ID } from './log-format.js';

export interface SwarmContractTarget {
  readonly swarm: SwarmApi;
  /** An image every node has or can pull (busybox: `sleep`, `sh`, `echo`). */
  readonly image: string;
  /** For an adapter whose tasks print nothing (the fake): make the newest task of `slot` print `message`. */
  readonly print?: ((service: string, slot: number, message: string) => void) | undefined;
  /** Called after the suite's own clean-up. */
  readonly cleanup?: (() => Promise<void>) | undefined;
}

export interface SwarmContractOptions {
  /** Why the adapter cannot run here (undefined = it can). */
  readonly unavailable: string | undefined;
  readonly setup: () => Promise<SwarmContractTarget>;
  /** beforeAll/afterAll timeout (engines, image pulls), default 180 s. */
  readonly setupTimeoutMs?: number;
  /** How long tasks may take to reach `running` (default 60 s). */
  readonly taskTimeoutMs?: number;
}

const required = process.env.TSCOMPOSE_E2E === '1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(250);
  }
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

export function swarmContract(name: string, options: SwarmContractOptions): void {
  const describeIf = options.unavailable === undefined || required ? describe : describe.skip;
  if (options.unavailable !== undefined && !required) console.log(`swarm contract (${name}) skipped: ${options.unavailable}`);
  const setupMs = options.setupTimeoutMs ?? 180_000;
  const taskMs = options.taskTimeoutMs ?? 60_000;

  describeIf(`swarm contract: ${name}`, () => {
    const runId = Math.random().toString(36).slice(2, 8);
    const prefix = `tscsw-contract-${runId}`;
    const LABEL = 'org.tscompose.contract';
    const labels = { [LABEL]: runId };
    const n = (suffix: string): string => `${prefix}-${suffix}`;
    let target: SwarmContractTarget;
    let swarm: SwarmApi;

    const serviceSpec = (suffix: string, extra: { args?: string[]; replicas?: number; spec?: Partial<ServiceSpec> } = {}): ServiceSpec => ({
      Name: n(suffix),
      Labels: { ...labels },
      TaskTemplate: {
        ContainerSpec: { Image: target.image, Args: extra.args ?? ['sleep', '3600'], Init: true, StopGracePeriod: 1_000_000_000 },
        RestartPolicy: { Condition: 'none' },
      },
      Mode: { Replicated: { Replicas: extra.replicas ?? 1 } },
      ...extra.spec,
    });
    /**
     * An update from the version just read, read again on a conflict: a manager bumps a service's version itself
     * (its UpdateStatus goes `updating` → `completed`), so callers must expect that.
     */
    const updateFresh = async (id: string, change: (spec: ServiceSpec) => ServiceSpec, rollback = false): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        const s = await swarm.inspectService(id);
        try {
          await swarm.updateService(id, s.version, change(s.spec), { rollback });
          return;
        } catch (e) {
          if (!isConflict(e) || attempt >= 5) throw e;
        }
      }
    };
    const running = (tasks: readonly SwarmTask[], slot: number): SwarmTask | undefined =>
      tasks.find((t) => t.slot === slot && t.desiredState === 'running' && t.state === 'running');

    beforeAll(async () => {
      if (options.unavailable !== undefined) throw new Error(`TSCOMPOSE_E2E=1 but the ${name} swarm cannot run here: ${options.unavailable}`);
      target = await options.setup();
      swarm = target.swarm;
    }, setupMs);

    afterAll(async () => {
      if (!swarm) return;
      for (const s of await swarm.listServices({ labels })) await swarm.removeService(s.id).catch(() => undefined);
      for (const s of await swarm.listSecrets({ labels })) await swarm.removeSecret(s.id).catch(() => undefined);
      for (const c of await swarm.listConfigs({ labels })) await swarm.removeConfig(c.id).catch(() => undefined);
      // A network stays in use until the removed services' tasks are gone.
      for (const net of await swarm.listNetworks({ labels }))
        await until(
          `network ${net.name} removed`,
          () =>
            swarm.removeNetwork(net.id).then(
              () => true,
              (e: unknown) => (isNotFound(e) ? true : undefined),
            ),
          30_000,
        );
      await target.cleanup?.();
    }, setupMs);

    test('swarmInfo: a manager of a swarm; listNodes: a ready manager among the nodes', async () => {
      const info = await swarm.swarmInfo();
      expect(info).toBeDefined();
      expect(info!.isManager).toBe(true);
      expect(info!.nodes).toBeGreaterThanOrEqual(1);
      expect(info!.managers).toBeGreaterThanOrEqual(1);
      const nodes = await swarm.listNodes();
      expect(nodes).toHaveLength(info!.nodes);
      const self = nodes.find((x) => x.id === info!.nodeId);
      expect(self).toMatchObject({ role: 'manager', state: 'ready', availability: 'active' });
      expect(self!.hostname).not.toBe('');
    });

    test('services: create, list by label, inspect, update from the version, conflicts, rollback, remove', async () => {
      const { id } = await swarm.createService(serviceSpec('svc'));
      expect(id).toMatch(/^\w+$/);
      const listed = await swarm.listServices({ labels });
      expect(listed.map((s) => s.spec.Name)).toContain(n('svc'));
      expect(await swarm.listServices({ labels: { [LABEL]: `${runId}-other` } })).toEqual([]);

      const byName = await swarm.inspectService(n('svc'));
      const byId = await swarm.inspectService(id);
      expect(byName.id).toBe(id);
      expect(byId.version).toBe(byName.version);
      expect(byName.spec.Labels).toMatchObject(labels);
      expect(byName.spec.TaskTemplate.ContainerSpec.Args).toEqual(['sleep', '3600']);
      expect(byName.createdAt).not.toBe('');

      expect(isConflict(await rejection(swarm.createService(serviceSpec('svc'))))).toBe(true);

      const changed = serviceSpec('svc', { args: ['sleep', '3601'] });
      const r = await swarm.updateService(id, byName.version, changed);
      expect(Array.isArray(r.warnings)).toBe(true);
      const after = await swarm.inspectService(id);
      expect(after.version).toBeGreaterThan(byName.version);
      expect(after.spec.TaskTemplate.ContainerSpec.Args).toEqual(['sleep', '3601']);
      expect(after.previousSpec?.TaskTemplate.ContainerSpec.Args).toEqual(['sleep', '3600']);

      const stale = await rejection(swarm.updateService(id, byName.version, serviceSpec('svc', { args: ['sleep', '3602'] })));
      expect(isConflict(stale)).toBe(true);
      expect((await swarm.inspectService(id)).spec.TaskTemplate.ContainerSpec.Args).toEqual(['sleep', '3601']);

      await updateFresh(id, (current) => current, true);
      const rolled = await swarm.inspectService(id);
      expect(rolled.version).toBeGreaterThan(after.version);
      expect(rolled.spec.TaskTemplate.ContainerSpec.Args).toEqual(['sleep', '3600']);

      await swarm.removeService(id);
      expect(isNotFound(await rejection(swarm.inspectService(id)))).toBe(true);
      expect(isNotFound(await rejection(swarm.removeService(n('svc'))))).toBe(true);
      expect(isNotFound(await rejection(swarm.updateService(n('missing'), 1, serviceSpec('missing'))))).toBe(true);
    });

    test(
      'tasks: a busybox service reaches running per slot on a node, scales, prints service logs',
      async () => {
        const { id } = await swarm.createService(serviceSpec('tasks', { args: ['sh', '-c', 'echo hello from the task; exec sleep 3600'] }));
        const first = await until('slot 1 running', async () => running(await swarm.listTasks({ service: id }), 1), taskMs);
        expect(first.serviceId).toBe(id);
        expect(first.nodeId).toBeTruthy();
        expect(first.containerId).toBeTruthy();
        expect(first.error).toBeUndefined();
        const nodes = await swarm.listNodes();
        expect(nodes.map((x) => x.id)).toContain(first.nodeId);
        // By name too, and among every service's tasks.
        expect((await swarm.listTasks({ service: n('tasks') })).map((t) => t.id)).toContain(first.id);
        expect((await swarm.listTasks()).map((t) => t.id)).toContain(first.id);
        expect(isNotFound(await rejection(swarm.listTasks({ service: n('missing') })))).toBe(true);

        target.print?.(id, 1, 'hello from the task');
        const line = await until(
          'the task printed',
          async () => {
            const text = await readAll(await swarm.serviceLogs(id, { timestamps: true }));
            return text
              .split('\n')
              .filter(Boolean)
              .map(parseServiceLogLine)
              .find((l) => l.message === 'hello from the task');
          },
          taskMs,
        );
        expect(line.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
        expect(line.details[SERVICE_ID]).toBe(id);
        expect(line.details[TASK_ID]).toBe(first.id);
        const plain = await readAll(await swarm.serviceLogs(n('tasks'), { tail: 1 }));
        expect(parseServiceLogLine(plain.split('\n')[0]!)).toMatchObject({ timestamp: undefined, message: 'hello from the task' });

        await updateFresh(id, (current) => ({ ...current, Mode: { Replicated: { Replicas: 2 } } }));
        const second = await until('slot 2 running', async () => running(await swarm.listTasks({ service: id }), 2), taskMs);
        expect(second.id).not.toBe(first.id);
        expect(running(await swarm.listTasks({ service: id }), 1)?.id).toBe(first.id);
        await swarm.removeService(id);
      },
      taskMs * 4,
    );

    test('secrets and configs: create, list by label, removal refused while a service uses them, then removed', async () => {
      const data = Buffer.from('contract secret\n').toString('base64');
      const secret = await swarm.createSecret({ Name: n('secret'), Labels: { ...labels }, Data: data });
      const config = await swarm.createConfig({ Name: n('config'), Labels: { ...labels }, Data: data });
      expect((await swarm.listSecrets({ labels })).map((s) => [s.id, s.name])).toEqual([[secret.id, n('secret')]]);
      expect((await swarm.listConfigs({ labels })).map((s) => [s.id, s.name])).toEqual([[config.id, n('config')]]);
      expect((await swarm.listSecrets({ labels }))[0]!.labels).toMatchObject(labels);
      expect(isConflict(await rejection(swarm.createSecret({ Name: n('secret'), Labels: {}, Data: data })))).toBe(true);

      const file = { UID: '0', GID: '0', Mode: 0o444 };
      const spec = serviceSpec('user');
      spec.TaskTemplate.ContainerSpec.Secrets = [{ SecretName: n('secret'), File: { Name: 'token', ...file } }];
      spec.TaskTemplate.ContainerSpec.Configs = [{ ConfigName: n('config'), ConfigID: config.id, File: { Name: '/etc/contract.conf', ...file } }];
      const user = await swarm.createService(spec);
      const refs = (await swarm.inspectService(user.id)).spec.TaskTemplate.ContainerSpec;
      expect(refs.Secrets?.[0]?.SecretID).toBe(secret.id);
      expect(refs.Configs?.[0]?.ConfigID).toBe(config.id);

      expect(isConflict(await rejection(swarm.removeSecret(secret.id)))).toBe(true);
      expect(isConflict(await rejection(swarm.removeConfig(n('config'))))).toBe(true);
      const missing = serviceSpec('orphan');
      missing.TaskTemplate.ContainerSpec.Secrets = [{ SecretName: n('no-such-secret'), File: { Name: 'x', ...file } }];
      expect(isNotFound(await rejection(swarm.createService(missing)))).toBe(true);

      await swarm.removeService(user.id);
      await swarm.removeSecret(n('secret'));
      await swarm.removeConfig(config.id);
      expect(await swarm.listSecrets({ labels })).toEqual([]);
      expect(await swarm.listConfigs({ labels })).toEqual([]);
      expect(isNotFound(await rejection(swarm.removeSecret(secret.id)))).toBe(true);
      expect(isNotFound(await rejection(swarm.removeConfig(n('config'))))).toBe(true);
    });

    test('networks: an overlay created with labels, listed by label, a duplicate refused, removed', async () => {
      const { id } = await swarm.createNetwork({ Name: n('net'), Driver: 'overlay', Scope: 'swarm', Attachable: true, Labels: { ...labels } });
      const listed = await swarm.listNetworks({ labels });
      expect(listed).toEqual([
        expect.objectContaining({ id, name: n('net'), driver: 'overlay', scope: 'swarm', labels: expect.objectContaining(labels) }),
      ]);
      expect((await swarm.listNetworks()).map((x) => x.name)).toContain('ingress');
      expect(isConflict(await rejection(swarm.createNetwork({ Name: n('net'), Driver: 'overlay', Labels: {} })))).toBe(true);
      await swarm.removeNetwork(n('net'));
      expect(await swarm.listNetworks({ labels })).toEqual([]);
      expect(isNotFound(await rejection(swarm.removeNetwork(id)))).toBe(true);
    });
  });
}

/**
 * Running lifecycle hooks with the fake runtime: through plans (execute + progress reporter) and through the
 * `start` / `stop` / `restart` commands; compose's failure message and output tail.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import type { Project } from '../project/types.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import type { ContainerInspect, ExecResult, ExecSpec } from '../runtime/runtime.js';
import { MemorySink } from './events.js';
import { execute } from './execute.js';
import { restart, rm, start, stop } from './lifecycle.js';
import { observe } from './observe.js';
import { planDown } from './plan-down.js';
import { Plan } from './plan.js';
import { executeReporter } from './progress.js';
import { reconcile } from './reconcile.js';
import { HookFailedError, OutputTail } from './run-hook.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function load(yaml: string): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-run-hook-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
}

const YAML = `
services:
  db:
    image: postgres
    post_start:
      - command: sh -c "id -u; echo $$GREETING; pwd"
        user: "1000"
        working_dir: /data
        environment: [GREETING=hello]
    pre_stop:
      - command: echo bye
  web:
    image: nginx
    depends_on: [db]
    post_start:
      - command: echo web up
`;

/** Records every exec and answers like a shell for the hook above; `fail` makes that command exit 3. */
function hookRuntime(fail?: string): { rt: FakeRuntime; execs: string[] } {
  const execs: string[] = [];
  const onExec = (c: ContainerInspect, spec: ExecSpec): ExecResult => {
    execs.push(`${c.name}: ${spec.cmd.join(' ')} user=${spec.user ?? ''} workdir=${spec.workdir ?? ''} env=${(spec.env ?? []).join(',')}`);
    if (spec.cmd.join(' ') === fail) return { exitCode: 3, stdout: 'progress\n', stderr: 'first\r\nboom: it broke\n' };
    if (spec.cmd[0] === 'sh') {
      const greeting = (spec.env ?? []).find((e) => e.startsWith('GREETING='))?.slice(9) ?? '';
      return { exitCode: 0, stdout: `${spec.user ?? '0'}\n${greeting}\n${spec.workdir ?? '/'}\n`, stderr: '' };
    }
    return { exitCode: 0, stdout: spec.cmd[0] === 'echo' ? `${spec.cmd.slice(1).join(' ')}\n` : '', stderr: '' };
  };
  return { rt: new FakeRuntime({ images: { nginx: 'sha256:1111', postgres: 'sha256:2222' }, onExec }), execs };
}

describe('hooks in plans', () => {
  test('post_start hooks run after the start with their user, working_dir and environment; output shown as compose does', async () => {
    const { rt, execs } = hookRuntime();
    const project = load(YAML);
    const sink = new MemorySink();
    await execute(rt, reconcile(project, await observe(rt, project)), { onEvent: executeReporter(sink) });
    expect(execs).toEqual([
      'demo-db-1: sh -c id -u; echo $GREETING; pwd user=1000 workdir=/data env=GREETING=hello',
      'demo-web-1: echo web up user= workdir= env=',
    ]);
    const db = sink.events.filter((e) => e.resource === 'Container demo-db-1');
    expect(db.map((e) => (e.log === undefined ? `${e.status} ${e.text}` : e.log))).toEqual([
      'working Creating',
      'done Created',
      'working Starting',
      'done Started',
      'working Running post_start hook',
      'db-1 -> | 1000',
      'db-1 -> | hello',
      'db-1 -> | /data',
      'done Started',
    ]);
    // The dependent started after the hook finished.
    const order = sink.events.map((e) => `${e.resource} ${e.text}`);
    expect(order.lastIndexOf('Container demo-db-1 Started')).toBeLessThan(order.indexOf('Container demo-web-1 Starting'));
  });

  test("a failing post_start hook fails the run with compose's message (stderr tail); what depends on it does not run", async () => {
    const { rt } = hookRuntime('sh -c id -u; echo $GREETING; pwd');
    const project = load(YAML);
    const sink = new MemorySink();
    const plan = reconcile(project, await observe(rt, project));
    const run = execute(rt, plan, { onEvent: executeReporter(sink) });
    await expect(run).rejects.toThrow(new HookFailedError('db', 3, 'first\nboom: it broke'));
    await expect(run).rejects.toThrow('db hook exited with status 3: first\nboom: it broke');
    expect(sink.lines()).toContain('Container demo-db-1 error Error (db hook exited with status 3: first\nboom: it broke)');
    // Created (compose creates every container before starting any), never started.
    expect(sink.lines().some((l) => l.startsWith('Container demo-web-1 Start'))).toBe(false);
    // compose leaves the container running.
    expect((await rt.inspectContainer('demo-db-1')).status).toBe('running');
  });

  test('down runs pre_stop hooks before stopping; a failing one stops the down', async () => {
    const { rt, execs } = hookRuntime();
    const project = load(YAML);
    await execute(rt, reconcile(project, await observe(rt, project)));
    execs.length = 0;
    await execute(rt, planDown(await observe(rt, project), { project }));
    expect(execs).toEqual(['demo-db-1: echo bye user= workdir= env=']);
    expect(await rt.listContainers()).toEqual([]);

    const failing = hookRuntime('echo bye');
    await execute(failing.rt, reconcile(project, await observe(failing.rt, project)));
    await expect(execute(failing.rt, planDown(await observe(failing.rt, project), { project }))).rejects.toThrow(
      'db hook exited with status 3: first\nboom: it broke',
    );
    expect((await failing.rt.inspectContainer('demo-db-1')).status).toBe('running');
  });

  test('a pre_stop hook whose container is not running is skipped (unchanged), as compose ignores Conflict / NotFound', async () => {
    const { rt, execs } = hookRuntime();
    const project = load(YAML);
    await execute(rt, reconcile(project, await observe(rt, project)));
    const plan = planDown(await observe(rt, project), { project });
    await rt.stopContainer('demo-db-1');
    execs.length = 0;
    const events: string[] = [];
    await execute(rt, plan, { onEvent: (e) => events.push(`${e.type} ${e.node.op.type}`) });
    expect(events.filter((e) => e.endsWith('RunHook'))).toEqual(['start RunHook', 'unchanged RunHook']);
    expect(execs).toEqual([]);
  });

  test('a hook with no output and a non-zero status: the bare message', async () => {
    const rt = new FakeRuntime({ images: { nginx: 'sha256:1' }, onExec: () => ({ exitCode: 1, stdout: '', stderr: '' }) });
    await rt.createContainer({ name: 'c', image: 'nginx', labels: {} });
    await rt.startContainer('c');
    const plan = new Plan();
    plan.add(
      { kind: 'service', service: 'web', number: 1, name: 'c' },
      { type: 'RunHook', container: 'c', service: 'web', phase: 'post_start', index: 0, exec: { cmd: ['false'] }, source: 'c' },
      { reason: 'created' },
    );
    await expect(execute(rt, plan)).rejects.toThrow(/^web hook exited with status 1$/);
  });
});

describe('hooks in start / stop / restart', () => {
  test('stop runs pre_stop first; start and restart run post_start after; no hooks without the project', async () => {
    const { rt, execs } = hookRuntime();
    const project = load(YAML);
    await execute(rt, reconcile(project, await observe(rt, project)));
    const sink = new MemorySink();
    const ctx = { runtime: rt, events: sink };
    execs.length = 0;
    await stop(ctx, 'demo', ['db'], { project });
    expect(execs).toEqual(['demo-db-1: echo bye user= workdir= env=']);
    expect(sink.lines().filter((l) => l.startsWith('Container demo-db-1'))).toEqual([
      'Container demo-db-1 working Stopping',
      'Container demo-db-1 working Running pre_stop hook',
      'Container demo-db-1 working Running pre_stop hook (bye)',
      'Container demo-db-1 done Stopped',
    ]);
    execs.length = 0;
    await start(ctx, 'demo', ['db'], { project });
    expect(execs).toEqual(['demo-db-1: sh -c id -u; echo $GREETING; pwd user=1000 workdir=/data env=GREETING=hello']);
    execs.length = 0;
    await restart(ctx, 'demo', ['web'], { project });
    expect(execs).toEqual(['demo-web-1: echo web up user= workdir= env=']);
    execs.length = 0;
    await stop(ctx, 'demo', undefined, {});
    await start(ctx, 'demo', undefined, {});
    expect(execs).toEqual([]);
  });

  test('rm -s runs pre_stop before stopping', async () => {
    const { rt, execs } = hookRuntime();
    const project = load(YAML);
    await execute(rt, reconcile(project, await observe(rt, project)));
    execs.length = 0;
    expect(await rm({ runtime: rt, events: new MemorySink() }, 'demo', ['db'], { stop: true, project })).toEqual(['demo-db-1']);
    expect(execs).toEqual(['demo-db-1: echo bye user= workdir= env=']);
  });

  test('a failing pre_stop hook fails stop and leaves the container running', async () => {
    const { rt } = hookRuntime('echo bye');
    const project = load(YAML);
    await execute(rt, reconcile(project, await observe(rt, project)));
    await expect(stop({ runtime: rt, events: new MemorySink() }, 'demo', ['db'], { project })).rejects.toThrow(HookFailedError);
    expect((await rt.inspectContainer('demo-db-1')).status).toBe('running');
  });
});

describe('OutputTail', () => {
  test('the last 10 non-blank lines, progress bars reduced to what was visible, at most 2048 bytes', () => {
    const t = new OutputTail();
    for (let i = 1; i <= 12; i++) t.write(`line ${i}\n`);
    t.write('\n  \n10%\r50%\r100%\r\n');
    t.write('partial');
    expect(t.toString().split('\n')).toEqual([...Array.from({ length: 9 }, (_, i) => `line ${i + 4}`), '100%', 'partial']);
    const big = new OutputTail();
    big.write(`${'x'.repeat(3000)}\n`);
    expect(Buffer.byteLength(big.toString())).toBe(2048);
    expect(new OutputTail().toString()).toBe('');
  });
});

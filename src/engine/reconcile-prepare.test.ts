/**
 * Prepared starts (ReconcileOptions.prepareStarts, Runtime.prepareStart): which starts get a PrepareStart node and
 * after what, and how `execute` runs them and undoes the ones whose start did not come.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { load as loadDir, project, removeTmpDirs } from '../project/__fixtures__/load-helpers.js';
import type { Project } from '../project/types.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { execute } from './execute.js';
import { observe } from './observe.js';
import { reconcile } from './reconcile.js';

afterAll(removeTmpDirs);

const load = (yaml: string): Project => loadDir(project({ 'compose.yaml': yaml }), { projectName: 'demo' }).project;

const CHAIN = `
services:
  db:
    image: busybox
  app:
    image: busybox
    depends_on: [db]
  web:
    image: busybox
    depends_on: [app]
`;

/** A fake runtime that prepares starts: it records the calls, in order. */
class PreparingRuntime extends FakeRuntime {
  readonly log: string[] = [];
  async prepareStart(idOrName: string): Promise<void> {
    this.log.push(`prepare ${idOrName}`);
  }
  override async startContainer(idOrName: string): Promise<void> {
    this.log.push(`start ${idOrName}`);
    return super.startContainer(idOrName);
  }
  async discardPreparedStarts(): Promise<void> {
    this.log.push('discard');
  }
}

const newRuntime = (): PreparingRuntime => new PreparingRuntime({ images: { busybox: 'sha256:1111' } });
const plan = async (rt: FakeRuntime, project: Project, prepareStarts = true) => reconcile(project, await observe(rt, project), { prepareStarts });

describe('prepared starts', () => {
  test('a start that waits for dependencies is prepared once its container exists; the others are not', async () => {
    const rt = newRuntime();
    expect((await plan(rt, load(CHAIN))).toString()).toBe(
      [
        '[] -> #1 network:default, CreateNetwork, missing',
        '[1] -> #2 service:db:1, CreateContainer, missing',
        '[2] -> #3 service:db:1, StartContainer, created',
        '[1,2] -> #4 service:app:1, CreateContainer, missing',
        '[4] -> #5 service:app:1, PrepareStart, created',
        '[3,5] -> #6 service:app:1, StartContainer, created',
        '[1,4] -> #7 service:web:1, CreateContainer, missing',
        '[7] -> #8 service:web:1, PrepareStart, created',
        '[6,8] -> #9 service:web:1, StartContainer, created',
      ].join('\n'),
    );
    // Without the capability the plan is as it always was.
    expect((await plan(rt, load(CHAIN), false)).toString()).not.toContain('PrepareStart');
  });

  test('stopped containers: their starts are prepared too', async () => {
    const rt = newRuntime();
    await execute(rt, await plan(rt, load(CHAIN)));
    for (const s of ['db', 'app', 'web']) rt.exit(`demo-${s}-1`, 0);
    expect((await plan(rt, load(CHAIN))).toString()).toBe(
      [
        '[] -> #1 service:db:1, StartContainer, not running',
        '[] -> #2 service:app:1, PrepareStart, not running',
        '[1,2] -> #3 service:app:1, StartContainer, not running',
        '[] -> #4 service:web:1, PrepareStart, not running',
        '[3,4] -> #5 service:web:1, StartContainer, not running',
      ].join('\n'),
    );
  });

  test('not when the start needs the dependencies (links, a volume subpath, a joined namespace), nor with a terminal or stdin', async () => {
    const rt = newRuntime();
    const dependent = (extra: string) =>
      load(`
services:
  db:
    image: busybox
    volumes: [data:/data]
  web:
    image: busybox
    depends_on: [db]
${extra}volumes: {data: {}}
`);
    for (const extra of [
      '    links: [db]\n',
      '    volumes: [{type: volume, source: data, target: /site, volume: {subpath: site}}]\n',
      '    network_mode: "service:db"\n',
      '    pid: "service:db"\n',
      '    tty: true\n',
      '    stdin_open: true\n',
    ])
      expect((await plan(rt, dependent(extra))).toString()).not.toContain('PrepareStart');
    expect((await plan(rt, dependent(''))).toString()).toContain('PrepareStart');
  });

  test('execute prepares ahead, starts in dependency order, and undoes what no start took', async () => {
    const rt = newRuntime();
    await execute(rt, await plan(rt, load(CHAIN)));
    const order = rt.log.filter((c) => c !== 'discard');
    for (const s of ['app', 'web']) expect(order.indexOf(`prepare demo-${s}-1`)).toBeLessThan(order.indexOf(`start demo-${s}-1`));
    expect(order.filter((c) => c.startsWith('start'))).toEqual(['start demo-db-1', 'start demo-app-1', 'start demo-web-1']);
    expect(order).not.toContain('prepare demo-db-1');
    expect(rt.log.at(-1)).toBe('discard');

    // app's start fails: web's start never comes, and its preparation is undone.
    const failing = newRuntime();
    failing.failNext('startContainer', new Error('boom'), (args) => args[0] === 'demo-app-1');
    await expect(execute(failing, await plan(failing, load(CHAIN)))).rejects.toThrow('boom');
    expect(failing.log).toContain('prepare demo-web-1');
    expect(failing.log).not.toContain('start demo-web-1');
    expect(failing.log.at(-1)).toBe('discard');
  });
});

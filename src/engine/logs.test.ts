import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { LogsNotReadableError } from '../runtime/errors.js';
import type { LogLine, LogsOptions } from '../runtime/runtime.js';
import { MemorySink } from './events.js';
import { logs, type LogConsumer } from './logs.js';
import { up } from './up.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const YAML = `
services:
  web: {image: nginx, scale: 2}
  db: {image: postgres}
`;

class Collect implements LogConsumer {
  readonly out: string[] = [];
  register(): void {}
  log(name: string, line: LogLine): void {
    this.out.push(`${name} | ${line.line}`);
  }
  status(name: string, text: string): void {
    this.out.push(`${name} ${text}`);
  }
}

async function setup(): Promise<FakeRuntime> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-logs-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), YAML);
  const project = loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
  const rt = new FakeRuntime({ images: { nginx: 'sha256:1', postgres: 'sha256:2' } });
  await up({ runtime: rt, events: new MemorySink() }, project);
  rt.emitLog('demo-web-1', 'w1 first');
  rt.emitLog('demo-web-2', 'w2 first');
  rt.emitLog('demo-db-1', 'db first', 'stderr');
  rt.emitLog('demo-web-1', 'w1 second');
  return rt;
}

describe('logs', () => {
  test('everything, per container, with --tail and --index', async () => {
    const rt = await setup();
    const c = new Collect();
    await logs({ runtime: rt, events: new MemorySink() }, 'demo', c);
    expect(c.out).toEqual(['db-1 | db first', 'web-1 | w1 first', 'web-1 | w1 second', 'web-2 | w2 first']);
    const t = new Collect();
    await logs({ runtime: rt, events: new MemorySink() }, 'demo', t, { services: ['web'], tail: 1, index: 1 });
    expect(t.out).toEqual(['web-1 | w1 second']);
  });

  test('attached following ends when every container has stopped, with exit statuses', async () => {
    const rt = await setup();
    const c = new Collect();
    const exits: number[] = [];
    const done = logs({ runtime: rt, events: new MemorySink() }, 'demo', c, {
      follow: true,
      untilAllStopped: true,
      onExit: (_, code) => exits.push(code),
    });
    await new Promise((r) => setTimeout(r, 20));
    rt.emitLog('demo-db-1', 'db later');
    await new Promise((r) => setTimeout(r, 5));
    rt.exit('demo-db-1', 0);
    rt.exit('demo-web-1', 1);
    rt.exit('demo-web-2', 0);
    await done;
    expect(c.out).toContain('db-1 | db later');
    expect(c.out).toContain('web-1 exited with code 1');
    expect(exits.sort()).toEqual([0, 0, 1]);
  });

  test('following goes on across a restart', async () => {
    const rt = await setup();
    const c = new Collect();
    const ac = new AbortController();
    const done = logs({ runtime: rt, events: new MemorySink(), signal: ac.signal }, 'demo', c, { follow: true, services: ['db'] });
    await new Promise((r) => setTimeout(r, 20));
    await rt.restartContainer('demo-db-1');
    await new Promise((r) => setTimeout(r, 20));
    rt.emitLog('demo-db-1', 'db after restart');
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await done;
    expect(c.out.filter((l) => l.startsWith('db-1 |'))).toEqual(['db-1 | db first', 'db-1 | db after restart']);
  });

  test('following stops on abort', async () => {
    const rt = await setup();
    const ac = new AbortController();
    const done = logs({ runtime: rt, events: new MemorySink(), signal: ac.signal }, 'demo', new Collect(), { follow: true });
    setTimeout(() => ac.abort(), 20);
    await done;
  });

  /** The db container's logging driver keeps nothing (`none`): the runtime refuses to read its log. */
  async function withUnreadableDb(): Promise<FakeRuntime> {
    const rt = await setup();
    const db = (await rt.listContainers({ all: true })).find((c) => c.name === 'demo-db-1')!.id;
    const read = rt.containerLogs.bind(rt);
    rt.containerLogs = (id: string, o?: LogsOptions) => {
      if (id === db || id === 'demo-db-1')
        return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new LogsNotReadableError('demo-db-1')) }) };
      return read(id, o);
    };
    return rt;
  }

  test("a container whose driver keeps nothing: docker compose's warning, the others' logs, success", async () => {
    const rt = await withUnreadableDb();
    const c = new Collect();
    const sink = new MemorySink();
    await logs({ runtime: rt, events: sink }, 'demo', c);
    expect(c.out).toEqual(['web-1 | w1 first', 'web-1 | w1 second', 'web-2 | w2 first']);
    expect(sink.lines()).toEqual([
      `Container demo-db-1 warning Warning (Can't retrieve logs for "demo-db-1": configured logging driver does not support reading)`,
    ]);
  });

  test('following: warned about once, not followed again (no re-attach loop), the others followed', async () => {
    const rt = await withUnreadableDb();
    const c = new Collect();
    const sink = new MemorySink();
    const done = logs({ runtime: rt, events: sink }, 'demo', c, { follow: true, untilAllStopped: true });
    await new Promise((r) => setTimeout(r, 30));
    rt.emitLog('demo-web-1', 'w1 later');
    await new Promise((r) => setTimeout(r, 5));
    rt.exit('demo-db-1', 0);
    rt.exit('demo-web-1', 0);
    rt.exit('demo-web-2', 0);
    await done;
    expect(c.out).toContain('web-1 | w1 later');
    expect(sink.lines().filter((l) => l.includes("Can't retrieve logs"))).toHaveLength(1);
  });

  test('a re-attach after a restart that reads from before what was printed gives no line twice', async () => {
    const rt = await setup();
    // A runtime whose follow read on across the restart while the start event re-attaches from the run's start
    // (here: from the very beginning, `since` ignored), as the native runtime's did.
    const read = rt.containerLogs.bind(rt);
    rt.containerLogs = (id: string, o?: LogsOptions) => {
      const rest = { ...o };
      delete rest.since;
      return read(id, rest);
    };
    const inspect = rt.inspectContainer.bind(rt);
    rt.inspectContainer = async (id, o) => {
      const i = await inspect(id, o);
      if (i.status !== 'exited') return i;
      await rt.startContainer(id); // the restart policy was quicker than the follower
      return inspect(id, o);
    };
    const c = new Collect();
    const ac = new AbortController();
    const done = logs({ runtime: rt, events: new MemorySink(), signal: ac.signal }, 'demo', c, { follow: true, services: ['db'] });
    await new Promise((r) => setTimeout(r, 20));
    // exits and is running again when the follower looks (its stream ended: it re-attaches), twice
    rt.exit('demo-db-1', 1);
    await new Promise((r) => setTimeout(r, 20));
    rt.emitLog('demo-db-1', 'db after restart');
    await new Promise((r) => setTimeout(r, 20));
    rt.exit('demo-db-1', 1);
    await new Promise((r) => setTimeout(r, 20));
    rt.emitLog('demo-db-1', 'db after 2nd restart');
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await done;
    expect(rt.calls.filter((x) => x.method === 'containerLogs').length).toBeGreaterThanOrEqual(3); // it did re-attach
    // Each run's end has its exit line, as docker compose prints one per die, before the next run's lines.
    expect(c.out).toEqual([
      'db-1 | db first',
      'db-1 exited with code 1',
      'db-1 | db after restart',
      'db-1 exited with code 1',
      'db-1 | db after 2nd restart',
    ]);
  });

  test('timestamps reach the consumer only when asked for', async () => {
    const rt = await setup();
    const seen: LogLine[] = [];
    const consumer: LogConsumer = { register: () => undefined, log: (_n, l) => seen.push(l), status: () => undefined };
    const ac = new AbortController();
    const done = logs({ runtime: rt, events: new MemorySink(), signal: ac.signal }, 'demo', consumer, { follow: true, services: ['db'] });
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await done;
    expect(seen).toEqual([{ stream: 'stderr', line: 'db first' }]);
  });
});

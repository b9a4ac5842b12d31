import { describe, expect, test } from '@jest/globals';
import { PassThrough } from 'node:stream';
import type { PlanNode } from '../../engine/plan.js';
import { executeReporter } from '../../engine/progress.js';
import { JsonRenderer } from './json.js';
import { LogPrinter } from './log-consumer.js';
import { PlainRenderer } from './plain.js';
import { createRenderer } from './renderer.js';
import { TtyRenderer } from './tty.js';
import { table } from './table.js';

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let buf = '';
  stream.on('data', (d: Buffer) => (buf += d.toString()));
  return { stream, text: () => buf };
}

describe('renderers', () => {
  test('plain: one line per event, pull progress skipped, warnings as WARN', () => {
    const s = sink();
    const r = new PlainRenderer(s.stream);
    r.emit({ resource: 'Container demo-web-1', status: 'working', text: 'Starting' });
    r.emit({ resource: 'Image nginx', status: 'working', text: 'Pulling', details: 'abc: Downloading' });
    r.emit({ resource: 'Container demo-web-1', status: 'done', text: 'Started' });
    r.emit({ resource: 'Project demo', status: 'warning', text: 'Warning', details: 'Found orphan containers' });
    expect(s.text()).toBe('Container demo-web-1  Starting\nContainer demo-web-1  Started\nWARN Found orphan containers\n');
  });

  test('plain: a lifecycle hook, its output lines as compose shows them (`web-1 -> | line`)', () => {
    const s = sink();
    const report = executeReporter(new PlainRenderer(s.stream));
    const node: PlanNode = {
      id: 4,
      deps: [3],
      resource: { kind: 'service', service: 'web', number: 1, name: 'demo-web-1' },
      op: { type: 'RunHook', container: 'demo-web-1', service: 'web', phase: 'post_start', index: 0, exec: { cmd: ['echo', 'hi'] }, source: 'web-1' },
      cause: { reason: 'created' },
    };
    report({ type: 'start', node });
    report({ type: 'output', node, line: 'hi' });
    report({ type: 'done', node });
    const stop = { ...node, op: { ...node.op, phase: 'pre_stop' as const } };
    report({ type: 'start', node: stop });
    report({ type: 'done', node: stop });
    expect(s.text()).toBe(
      [
        'Container demo-web-1  Running post_start hook',
        'web-1 -> | hi',
        'Container demo-web-1  Started',
        'Container demo-web-1  Running pre_stop hook',
        'Container demo-web-1  Ran pre_stop hook',
        '',
      ].join('\n'),
    );
  });

  test('json: one object per line', () => {
    const s = sink();
    const r = new JsonRenderer(s.stream);
    r.emit({ resource: 'Network demo_default', status: 'done', text: 'Created' });
    r.emit({ resource: 'Container x', status: 'error', text: 'Error', details: 'boom' });
    expect(
      s
        .text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { resource: 'Network demo_default', status: 'done', text: 'Created' },
      { resource: 'Container x', status: 'error', text: 'Error', details: 'boom' },
    ]);
  });

  test('auto picks plain when stderr is not a terminal; quiet prints nothing', async () => {
    const s = sink();
    const auto = await createRenderer({ progress: 'auto' }, s.stream as unknown as NodeJS.WriteStream, {});
    expect(auto).toBeInstanceOf(PlainRenderer);
    const quiet = await createRenderer({ progress: 'quiet' }, s.stream as unknown as NodeJS.WriteStream, {});
    quiet.emit({ resource: 'Container x', status: 'done', text: 'Started' });
    quiet.stop();
    expect(s.text()).toBe('');
  });
});

describe('the display chosen by --progress, --ansi and their environment variables', () => {
  /** A terminal 80 columns wide (or a pipe). */
  function terminal(isTTY = true): NodeJS.WriteStream {
    // ora repaints through the tty.WriteStream methods.
    const repaint = (): boolean => true;
    return Object.assign(new PassThrough(), {
      isTTY,
      columns: 80,
      cursorTo: repaint,
      clearLine: repaint,
      moveCursor: repaint,
    }) as unknown as NodeJS.WriteStream;
  }

  test.each([
    [{}, {}, TtyRenderer],
    [{ ansi: 'never' }, {}, PlainRenderer],
    [{}, { COMPOSE_ANSI: 'never' }, PlainRenderer],
    [{ ansi: 'auto' }, { COMPOSE_ANSI: 'never' }, TtyRenderer],
    [{}, { COMPOSE_PROGRESS: 'plain' }, PlainRenderer],
    [{}, { COMPOSE_PROGRESS: 'json' }, JsonRenderer],
    [{ progress: 'tty' }, { COMPOSE_PROGRESS: 'plain' }, TtyRenderer],
    [{}, { NO_COLOR: '1' }, TtyRenderer],
  ])('on a terminal, %j with %j: %p', async (settings, env, kind) => {
    const r = await createRenderer(settings, terminal(), env);
    expect(r).toBeInstanceOf(kind);
    r.stop();
  });

  test('--ansi never on a terminal: plain lines, not one escape', async () => {
    const stream = terminal();
    let out = '';
    stream.on('data', (d: Buffer) => (out += d.toString()));
    const r = await createRenderer({ ansi: 'never' }, stream, {});
    r.emit({ resource: 'Container demo-web-1', status: 'working', text: 'Starting' });
    r.emit({ resource: 'Container demo-web-1', status: 'done', text: 'Started' });
    r.stop();
    expect(out).toBe('Container demo-web-1  Starting\nContainer demo-web-1  Started\n');
  });

  test('piped: plain even with --ansi always (as docker compose); tty with never, plain with always are refused', async () => {
    expect(await createRenderer({ ansi: 'always' }, terminal(false), {})).toBeInstanceOf(PlainRenderer);
    await expect(createRenderer({ progress: 'tty', ansi: 'never' }, terminal(), {})).rejects.toMatchObject({ code: 'TSC_USAGE' });
    await expect(createRenderer({ progress: 'plain' }, terminal(), { COMPOSE_ANSI: 'always' })).rejects.toMatchObject({ code: 'TSC_USAGE' });
  });
});

describe('LogPrinter', () => {
  test('prefix padded to the widest name; stderr kept apart; no colour', () => {
    const out = sink();
    const err = sink();
    const p = new LogPrinter(out.stream, err.stream, { colour: false });
    p.register('web-1');
    p.register('database-1');
    p.log('web-1', { stream: 'stdout', line: 'hello\r' });
    p.log('database-1', { stream: 'stderr', line: 'oops' });
    p.status('web-1', 'exited with code 0');
    expect(out.text()).toBe('web-1      | hello\nweb-1 exited with code 0\n');
    expect(err.text()).toBe('database-1 | oops\n');
  });

  test('round-robin colours, --no-log-prefix, timestamps', () => {
    const out = sink();
    const p = new LogPrinter(out.stream, out.stream, { colour: true, timestamps: true });
    p.register('a-1');
    p.register('b-1');
    p.log('a-1', { stream: 'stdout', line: 'x', timestamp: '2024-01-01T00:00:00.000000000Z' });
    p.log('b-1', { stream: 'stdout', line: 'y' });
    expect(out.text()).toBe('\u001b[36ma-1 | \u001b[39m2024-01-01T00:00:00.000000000Z x\n\u001b[33mb-1 | \u001b[39my\n');
    const plain = sink();
    const q = new LogPrinter(plain.stream, plain.stream, { colour: false, prefix: false });
    q.log('a-1', { stream: 'stdout', line: 'bare' });
    expect(plain.text()).toBe('bare\n');
  });
});

test('table pads columns', () => {
  expect(table(['NAME', 'STATUS'], [['demo', 'running(2)']])).toBe('NAME   STATUS\ndemo   running(2)\n');
});

describe('psText', () => {
  test('CREATED as docker compose ps shows it: a time ago', async () => {
    const { psText } = await import('./project.js');
    const now = Date.UTC(2026, 0, 1, 12);
    const row = {
      id: 'abc',
      name: 'p-web-1',
      image: 'nginx',
      command: ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'],
      service: 'web',
      number: 1,
      project: 'p',
      status: 'running' as const,
      state: 'running',
      health: '',
      exitCode: 0,
      created: now - 5 * 60_000,
      ports: [],
      labels: {},
    };
    const lines = psText([row], 'table', now).split('\n');
    expect(lines[0]).toMatch(/^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS/);
    expect(lines[1]).toContain('5 minutes ago');
  });

  test("COMMAND as docker compose ps shows it: the daemon's command line, quoted, cut to 20 characters unless --no-trunc", async () => {
    const { psText, commandLine, goQuote } = await import('./project.js');
    const now = Date.UTC(2026, 0, 1, 12);
    const row = {
      id: 'abc',
      name: 'p-web-1',
      image: 'nginx',
      command: ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'],
      service: 'web',
      number: 1,
      project: 'p',
      status: 'running' as const,
      state: 'running',
      health: '',
      exitCode: 0,
      created: now,
      ports: [],
      labels: {},
    };
    expect(commandLine(row.command)).toBe("/docker-entrypoint.sh nginx -g 'daemon off;'");
    expect(psText([row], 'table', now).split('\n')[1]).toContain('   "/docker-entrypoint.…"   web   ');
    expect(psText([row], 'table', now, true).split('\n')[1]).toContain(`   "/docker-entrypoint.sh nginx -g 'daemon off;'"   web   `);
    expect(psText([{ ...row, command: ['sh', '-c', 'echo "hi"\tthere'] }], 'table', now).split('\n')[1]).toContain(
      '   "sh -c \'echo \\"hi\\"\\tth…"   ',
    );
    expect(psText([{ ...row, command: [] }], 'table', now).split('\n')[1]).toMatch(/^p-web-1 {3}nginx {3}"" +web /);
    expect(JSON.parse(psText([row], 'json', now))).toMatchObject({ Command: '"/docker-entrypoint.…"' });
    expect(goQuote('a\\b\u0001\x7f…')).toBe('"a\\\\b\\x01\\x7f…"');
  });
});

/** output.ts: the CLI's own printing — `-o FILE` errors, and (below) the ANSI/colour decision. */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { checkTerminalSettings, createOutput, decideAnsi, decideProgress, logColour, resolveAnsiMode } from './output.js';
import { writeOutputFile } from './output.js';

const dir = mkdtempSync(join(tmpdir(), 'tsc-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeOutputFile (-o FILE)', () => {
  test('writes the file', () => {
    writeOutputFile(join(dir, 'out.yaml'), 'a: 1\n');
    expect(readFileSync(join(dir, 'out.yaml'), 'utf8')).toBe('a: 1\n');
  });

  test.each([
    ['a missing directory', join(dir, 'no/such/dir/out.yaml'), 'its directory does not exist'],
    ['a directory', dir, 'it is a directory'],
    ['a file where a directory should be', join(dir, 'out.yaml', 'x'), 'its directory does not exist'],
  ])('%s is a user error naming the path', (_what, file, why) => {
    let err: unknown;
    try {
      writeOutputFile(file, 'x');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'TSC_OUTPUT_FILE',
      exitCode: 1,
      message: `cannot write --output ${file}: ${why}`,
      hint: expect.stringContaining('--output'),
    });
  });
});

describe('decideAnsi: one decision for every writer', () => {
  // [--ansi, --no-color given, NO_COLOR, COMPOSE_ANSI, is a terminal] → [control characters, colours]
  test.each<[string | undefined, boolean, string | undefined, string | undefined, boolean, boolean, boolean]>([
    [undefined, false, undefined, undefined, true, true, true],
    [undefined, false, undefined, undefined, false, false, false],
    ['auto', false, undefined, undefined, true, true, true],
    ['never', false, undefined, undefined, true, false, false],
    ['always', false, undefined, undefined, false, true, true],
    ['always', false, '1', undefined, false, true, false],
    ['always', true, undefined, undefined, false, true, false],
    [undefined, false, '1', undefined, true, true, false],
    [undefined, false, '', undefined, true, true, true],
    [undefined, true, undefined, undefined, true, true, false],
    [undefined, false, undefined, 'never', true, false, false],
    [undefined, false, undefined, 'always', false, true, true],
    [undefined, false, undefined, 'auto', false, false, false],
    [undefined, false, undefined, '', true, true, true],
    ['auto', false, undefined, 'never', true, true, true],
    ['always', false, undefined, 'never', false, true, true],
    ['never', false, undefined, 'always', true, false, false],
  ])(
    '--ansi %p, --no-color %p, NO_COLOR %p, COMPOSE_ANSI %p, terminal %p → escapes %p, colour %p',
    (ansi, noColor, NO_COLOR, COMPOSE_ANSI, isTTY, escapes, colour) => {
      const env: NodeJS.ProcessEnv = {};
      if (NO_COLOR !== undefined) env['NO_COLOR'] = NO_COLOR;
      if (COMPOSE_ANSI !== undefined) env['COMPOSE_ANSI'] = COMPOSE_ANSI;
      expect(decideAnsi({ ansi, color: noColor ? false : undefined, isTTY, env })).toMatchObject({ escapes, colour });
    },
  );

  test('an invalid COMPOSE_ANSI is a usage error; --ansi outranks it', () => {
    expect(() => resolveAnsiMode(undefined, { COMPOSE_ANSI: 'sometimes' })).toThrow(
      expect.objectContaining({ code: 'TSC_USAGE', message: 'invalid COMPOSE_ANSI value: sometimes' }),
    );
    expect(resolveAnsiMode('never', { COMPOSE_ANSI: 'sometimes' })).toBe('never');
  });

  test('logColour: container logs on stdout follow the same rule', () => {
    const saved = { ...process.env };
    try {
      delete process.env['NO_COLOR'];
      process.env['COMPOSE_ANSI'] = 'always';
      expect(logColour(undefined, undefined, { isTTY: false })).toBe(true);
      expect(logColour(undefined, false, { isTTY: false })).toBe(false);
      expect(logColour('never', undefined, { isTTY: true })).toBe(false);
      delete process.env['COMPOSE_ANSI'];
      expect(logColour(undefined, undefined, { isTTY: false })).toBe(false);
      expect(logColour(undefined, undefined, { isTTY: true })).toBe(true);
    } finally {
      process.env = saved;
    }
  });
});

describe('decideProgress', () => {
  // [--progress, COMPOSE_PROGRESS, --ansi, COMPOSE_ANSI, terminal] → display
  test.each<[string | undefined, string | undefined, string | undefined, string | undefined, boolean, string]>([
    [undefined, undefined, undefined, undefined, true, 'tty'],
    [undefined, undefined, undefined, undefined, false, 'plain'],
    [undefined, undefined, 'never', undefined, true, 'plain'],
    [undefined, undefined, undefined, 'never', true, 'plain'],
    [undefined, undefined, 'always', undefined, false, 'plain'],
    [undefined, 'plain', undefined, undefined, true, 'plain'],
    [undefined, 'json', undefined, undefined, true, 'json'],
    [undefined, 'quiet', undefined, undefined, true, 'quiet'],
    [undefined, 'none', undefined, undefined, true, 'quiet'],
    [undefined, '', undefined, undefined, true, 'tty'],
    ['auto', 'plain', undefined, undefined, true, 'tty'],
    ['tty', undefined, undefined, undefined, true, 'tty'],
    ['tty', undefined, undefined, undefined, false, 'plain'],
    ['json', undefined, 'never', undefined, true, 'json'],
  ])(
    '--progress %p, COMPOSE_PROGRESS %p, --ansi %p, COMPOSE_ANSI %p, terminal %p → %p',
    (progress, COMPOSE_PROGRESS, ansi, COMPOSE_ANSI, isTTY, mode) => {
      const env: NodeJS.ProcessEnv = {};
      if (COMPOSE_PROGRESS !== undefined) env['COMPOSE_PROGRESS'] = COMPOSE_PROGRESS;
      if (COMPOSE_ANSI !== undefined) env['COMPOSE_ANSI'] = COMPOSE_ANSI;
      expect(decideProgress({ progress, ansi, isTTY, columns: 80, env })).toBe(mode);
    },
  );

  test('a terminal without a width gets plain (the tty display repaints by width)', () => {
    expect(decideProgress({ isTTY: true, columns: 0, env: {} })).toBe('plain');
  });

  test.each<[string | undefined, string | undefined, string | undefined, string | undefined, string]>([
    ['tty', undefined, 'never', undefined, "can't use --progress tty while ANSI support is disabled (--ansi never)"],
    [undefined, 'tty', undefined, 'never', "can't use COMPOSE_PROGRESS=tty while ANSI support is disabled (COMPOSE_ANSI=never)"],
    ['plain', undefined, 'always', undefined, "can't use --progress plain while ANSI support is forced (--ansi always)"],
    [undefined, 'fancy', undefined, undefined, 'invalid COMPOSE_PROGRESS value: fancy'],
    [undefined, undefined, undefined, 'sometimes', 'invalid COMPOSE_ANSI value: sometimes'],
  ])('refused: --progress %p, COMPOSE_PROGRESS %p, --ansi %p, COMPOSE_ANSI %p', (progress, COMPOSE_PROGRESS, ansi, COMPOSE_ANSI, message) => {
    const env: NodeJS.ProcessEnv = {};
    if (COMPOSE_PROGRESS !== undefined) env['COMPOSE_PROGRESS'] = COMPOSE_PROGRESS;
    if (COMPOSE_ANSI !== undefined) env['COMPOSE_ANSI'] = COMPOSE_ANSI;
    expect(() => checkTerminalSettings({ progress, ansi }, env)).toThrow(expect.objectContaining({ code: 'TSC_USAGE', message }));
  });
});

describe('createOutput: warnings and errors coloured as decideAnsi says for stderr', () => {
  function capture(isTTY: boolean): { stream: NodeJS.WritableStream; text: () => string } {
    let buf = '';
    const stream = Object.assign(
      new Writable({
        write(chunk: Buffer, _enc, done) {
          buf += chunk.toString();
          done();
        },
      }),
      { isTTY },
    );
    return { stream, text: () => buf };
  }

  test.each<[string | undefined, NodeJS.ProcessEnv, boolean, boolean]>([
    [undefined, {}, true, true],
    [undefined, {}, false, false],
    ['always', {}, false, true],
    [undefined, { COMPOSE_ANSI: 'always' }, false, true],
    [undefined, { COMPOSE_ANSI: 'never' }, true, false],
    ['never', {}, true, false],
    [undefined, { NO_COLOR: '1' }, true, false],
    // Reported as an error by the command; the error itself is printed as auto.
    [undefined, { COMPOSE_ANSI: 'sometimes' }, true, true],
  ])('--ansi %p with %j, terminal %p → colour %p', (ansi, env, isTTY, coloured) => {
    const err = capture(isTTY);
    createOutput(ansi, capture(false).stream, err.stream, env).warn('careful');
    expect(err.text().includes('\x1b[')).toBe(coloured);
    expect(err.text()).toContain('WARN');
  });
});

import { expect, test } from '@jest/globals';
import { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../context.js';
import { execCommand, execStdio } from './exec.js';

const parse = (...argv: string[]) => {
  const cmd = execCommand(new Command().enablePositionalOptions(), (() => ({})) as unknown as ContextOf);
  const { operands } = cmd.parseOptions(argv);
  return { opts: cmd.opts() as Record<string, unknown>, operands };
};

test('exec -it, -T, -i: docker compose exec flags; the command keeps its own flags', () => {
  expect(parse('-it', 'web', 'sh')).toEqual({ opts: expect.objectContaining({ interactive: true, tty: true }), operands: ['web', 'sh'] });
  expect(parse('-T', 'db', 'psql', '-U', 'x').opts).toEqual(expect.objectContaining({ tty: false }));
  expect(parse('-T', 'db', 'psql', '-U', 'x').operands).toEqual(['db', 'psql', '-U', 'x']);
  expect(parse('web', 'cat').opts.tty).toBeUndefined();
});

const both = { stdin: true, stdout: true };
const piped = { stdin: false, stdout: true };

test('stdin is forwarded whenever interactive (the default), with or without a TTY, never with -d', () => {
  expect(execStdio({}, both)).toEqual({ tty: true, forwardStdin: true });
  expect(execStdio({ tty: false }, both)).toEqual({ tty: false, forwardStdin: true });
  expect(execStdio({ tty: false }, piped)).toEqual({ tty: false, forwardStdin: true });
  expect(execStdio({ tty: false }, { stdin: false, stdout: false })).toEqual({ tty: false, forwardStdin: true });
  expect(execStdio({ detach: true }, both)).toEqual({ tty: true, forwardStdin: false });
  expect(execStdio({ interactive: false, tty: false }, both)).toEqual({ tty: false, forwardStdin: false });
});

test('no TTY when our stdin or stdout is not a terminal, even without -T (exec svc cmd < file works)', () => {
  expect(execStdio({}, piped).tty).toBe(false);
  expect(execStdio({ tty: true }, piped).tty).toBe(false);
  expect(execStdio({}, { stdin: true, stdout: false }).tty).toBe(false);
});

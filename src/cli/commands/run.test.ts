import { expect, test } from '@jest/globals';
import { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../context.js';
import { runCommand } from './run.js';

const parse = (...argv: string[]) => {
  const cmd = runCommand(new Command().enablePositionalOptions(), (() => ({})) as unknown as ContextOf);
  const { operands } = cmd.parseOptions(argv);
  return { opts: cmd.opts() as Record<string, unknown>, operands };
};

test('run -it: interactive and a TTY, the service stays an operand (docker compose run -it web sh)', () => {
  expect(parse('-it', 'web', 'sh')).toEqual({ opts: expect.objectContaining({ interactive: true, tty: true }), operands: ['web', 'sh'] });
  expect(parse('-i', 'web')).toEqual({ opts: expect.objectContaining({ interactive: true }), operands: ['web'] });
  expect(parse('-T', 'web').opts).toEqual(expect.objectContaining({ tty: false }));
});

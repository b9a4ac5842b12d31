import { expect, test } from '@jest/globals';
import { Command } from '@commander-js/extra-typings';
import { boolFlag, boolFlagOption } from './bool-flag.js';

function parse(argv: string[]): { value: boolean; args: string[] } {
  let result = { value: false, args: [] as string[] };
  const p = new Command().exitOverride().enablePositionalOptions();
  p.command('ps')
    .addOption(boolFlagOption('--orphans', 'x', true))
    .argument('[services...]')
    .action((services, opts) => {
      const args = [...services];
      result = { value: boolFlag((opts as { orphans?: unknown }).orphans, args), args };
    });
  p.parse(['ps', ...argv], { from: 'user' });
  return result;
}

test('pflag-style booleans: absent is the default, --x and --x=true true, --x=false false; a swallowed argument comes back', () => {
  expect(parse([])).toEqual({ value: true, args: [] });
  expect(parse(['--orphans=false', 'web'])).toEqual({ value: false, args: ['web'] });
  expect(parse(['--orphans=true'])).toEqual({ value: true, args: [] });
  expect(parse(['--orphans'])).toEqual({ value: true, args: [] });
  expect(parse(['--orphans', 'web', 'db'])).toEqual({ value: true, args: ['web', 'db'] });
  expect(parse(['--orphans', 'false'])).toEqual({ value: false, args: [] });
});

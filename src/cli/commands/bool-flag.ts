/**
 * Boolean flags that default to true and are turned off as pflag does it: `--orphans=false`,
 * `--sig-proxy=false` (docker compose's spelling; commander has no such form for a plain boolean). The option takes
 * an optional value; a value that is not a boolean was a positional argument the option swallowed (`run -i web`):
 * `boolFlag` gives it back to the command's positionals.
 */
import { Option } from '@commander-js/extra-typings';

const TRUE = new Set(['true', '1', 't', 'T', 'TRUE', 'True']);
const FALSE = new Set(['false', '0', 'f', 'F', 'FALSE', 'False']);

/** What the option's parser stores: a boolean, or the positional argument it took. */
export type BoolFlagValue = boolean | { readonly positional: string };

/** `--name [bool]`: absent → `defaultValue`, `--name`/`--name=true` → true, `--name=false` → false. */
export function boolFlagOption(flags: string, description: string, defaultValue: boolean): Option {
  return new Option(flags.includes('[') ? flags : `${flags} [bool]`, `${description} (=false turns it off)`)
    .default(defaultValue)
    .preset(true)
    .argParser((raw: string | boolean): BoolFlagValue => {
      if (typeof raw === 'boolean') return raw; // the preset, for the flag alone
      const v = raw.replace(/^=/, '');
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      return { positional: raw };
    });
}

/** The flag's boolean; a swallowed positional argument is put back in front of `positionals`. */
export function boolFlag(value: unknown, positionals: string[]): boolean {
  if (typeof value === 'boolean') return value;
  if (value && typeof value === 'object' && 'positional' in value) {
    positionals.unshift((value as { positional: string }).positional);
    return true;
  }
  return value === undefined ? true : Boolean(value);
}

import { describe, expect, test } from '@jest/globals';
import { checkText } from './check.js';

const checked = [
  { area: 'images', count: 2 },
  { area: 'containers', count: 1 },
];

describe('checkText', () => {
  test('a runtime with nothing of its own, a clean report, JSON', () => {
    expect(checkText({ checked: [], problems: [] }, { runtime: 'docker', repair: false })).toBe(
      "The docker runtime keeps no store or state of tscompose's own: nothing to check.\n",
    );
    expect(checkText({ checked, problems: [] }, { runtime: 'native', repair: false })).toBe(
      'Checked (native runtime): images 2, containers 1\nNo problems found.\n',
    );
    expect(JSON.parse(checkText({ checked, problems: [] }, { runtime: 'native', repair: true, json: true }))).toEqual({
      runtime: 'native',
      repair: true,
      ok: true,
      checked,
      problems: [],
    });
  });

  test('problems: what --repair would do, did, or could not', () => {
    const problems = [
      { area: 'images', subject: 'tmp/1-a', problem: 'scratch', repair: 'remove it', repaired: false },
      { area: 'containers', subject: 'web', problem: 'its image is gone (pull it again)', repaired: false },
    ];
    const before = checkText({ checked, problems }, { runtime: 'native', repair: false });
    expect(before).toMatch(/^AREA\s+SUBJECT\s+PROBLEM\s+REPAIR$/m);
    expect(before).toMatch(/tmp\/1-a\s+scratch\s+--repair: remove it/);
    expect(before).toMatch(/web\s+its image is gone \(pull it again\)\s+by hand/);
    expect(before).toMatch(/2 problems found \(`tscompose check --repair` does what the REPAIR column says\)\n$/);
    const after = checkText({ checked, problems: [{ ...problems[0]!, repaired: true }, problems[1]!] }, { runtime: 'native', repair: true });
    expect(after).toMatch(/repaired: remove it/);
    expect(after).toMatch(/2 problems found, 1 repaired, 1 left\n$/);
    expect(JSON.parse(checkText({ checked, problems }, { runtime: 'native', repair: false, json: true })).ok).toBe(false);
  });
});

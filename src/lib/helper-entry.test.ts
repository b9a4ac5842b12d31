import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { helperEntry, isHelperEntry } from './helper-entry.js';

describe('helper entries', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsc-helper-entry-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const moduleUrl = (): string => pathToFileURL(path.join(dir, 'launcher.js')).href;

  it('is the bundle when it was built, else the module', () => {
    writeFileSync(path.join(dir, 'keeper.js'), '');
    expect(helperEntry('keeper', moduleUrl())).toBe(path.join(dir, 'keeper.js'));
    writeFileSync(path.join(dir, 'keeper.cjs'), '');
    expect(helperEntry('keeper', moduleUrl())).toBe(path.join(dir, 'keeper.cjs'));
  });

  it('is recognised on a command line in either form, not by a longer name', () => {
    expect(isHelperEntry('/opt/x/log-keeper.js', 'log-keeper')).toBe(true);
    expect(isHelperEntry('/opt/x/log-keeper.cjs', 'log-keeper')).toBe(true);
    expect(isHelperEntry('/opt/x/my-log-keeper.js', 'log-keeper')).toBe(false);
    expect(isHelperEntry('/opt/x/log-keeper.json', 'log-keeper')).toBe(false);
  });
});

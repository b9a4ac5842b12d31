import { describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readSysctl } from './sysctl.js';

describe('readSysctl', () => {
  test('reads /proc/sys by the dotted name', async () => {
    if (!existsSync('/proc/sys/kernel/ostype')) return;
    expect(await readSysctl('kernel.ostype')).toBe('Linux');
  });
  test('undefined for a missing setting or a name that is not one', async () => {
    expect(await readSysctl('vm.no_such_setting_here')).toBeUndefined();
    expect(await readSysctl('../etc/passwd')).toBeUndefined();
    expect(await readSysctl('vm')).toBeUndefined();
  });
});

import { describe, expect, test } from '@jest/globals';
import { isEphemeral } from './ephemeral.js';
import { WatchLimitError } from './errors.js';

describe('isEphemeral', () => {
  test.each([
    '.file.txt.swp',
    '.file.txt.swx',
    '.file.txt.swo',
    '.file.txt.swn',
    '..swp',
    'file.txt~',
    '4913',
    '.#file.txt',
    '#file.txt#',
    '##',
    'main.go___jb_tmp___',
    'main.go___jb_old___',
    '.idea',
    '.file.txt.kate-swp',
    '1234-go-tmp-umask',
    '.DS_Store',
  ])('%s is ephemeral', (name) => {
    expect(isEphemeral(name)).toBe(true);
  });

  test.each(['normal.txt', 'file.swp', '.swp', '.kate-swp', 'a.sw', '49130', '#', '#notes', 'idea', '.ideas', 'DS_Store', 'a~b', '.gitignore'])(
    '%s is not',
    (name) => {
      expect(isEphemeral(name)).toBe(false);
    },
  );
});

describe('WatchLimitError', () => {
  test('says the inotify limit is reached and names the sysctl', () => {
    const e = new WatchLimitError('/src');
    expect(e.code).toBe('TSC_WATCH_LIMIT');
    expect(e.message).toContain('inotify');
    expect(e.message).toContain('fs.inotify.max_user_watches');
    expect(e.hint).toContain('fs.inotify.max_user_watches');
  });
});

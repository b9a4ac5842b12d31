/**
 * The project and the steps of the content-aware recreate end-to-end tests (issue 17 item 4), run on Docker Engine
 * (docker-content-recreate.test.ts) and on the native runtime (native-content-recreate.test.ts): s1 uses secret `a`
 * (a file, bound as it is and also copied with a mode of its own), s2 uses secret `b` (a file) and an env_file.
 * Replacing a's file (a new inode, as editors save) makes `--dry-run up -d` name it and `up -d` recreate s1 only,
 * whose new container reads the new content at both targets; s2 keeps its container.
 */
import { expect } from '@jest/globals';
import type { SpawnSyncReturns } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function contentRecreateFiles(image: string): Record<string, string> {
  const sleeper = `    image: ${image}\n    command: ["sleep", "3600"]\n    init: true\n`;
  return {
    'compose.yaml': `services:
  s1:
${sleeper}    secrets:
      - a
      - source: a
        target: a_copy
        mode: 0400
  s2:
${sleeper}    secrets: [b]
    env_file: s2.env
secrets:
  a:
    file: ./secrets/a.txt
  b:
    file: ./secrets/b.txt
`,
    'secrets/a.txt': 'A1',
    'secrets/b.txt': 'B1',
    's2.env': 'X=1\n',
  };
}

/** Runs bin/tscompose in the project (already created from contentRecreateFiles). */
export type Tsc = (...args: string[]) => SpawnSyncReturns<string>;

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** Writes `file` the way editors save: a new file renamed over the old one (a bind of the old inode keeps it). */
function replaceFile(dir: string, file: string, text: string): void {
  const tmp = join(dir, `${file}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(dir, file));
}

/** The steps; each runtime's test calls this after creating the project in `dir`. */
export function contentRecreateScenario(dir: string, ts: Tsc): void {
  const id = (s: string): string => ok(ts('ps', '-q', s)).trim();
  const cat = (s: string, path: string): string => ok(ts('exec', '-T', s, 'cat', path)).trim();

  ok(ts('up', '-d'));
  const [s1, s2] = [id('s1'), id('s2')];
  expect(s1).not.toBe('');
  expect(s2).not.toBe('');
  expect(cat('s1', '/run/secrets/a')).toBe('A1');
  expect(cat('s1', '/run/secrets/a_copy')).toBe('A1');
  expect(ok(ts('--dry-run', 'up', '-d'))).toContain('nothing to do');

  replaceFile(dir, 'secrets/a.txt', 'A2');
  const dry = ok(ts('--dry-run', 'up', '-d'));
  expect(dry).toMatch(/service:s1:1, CreateContainer, secrets\/a\.txt changed \(/);
  expect(dry).not.toContain('service:s2');
  expect([id('s1'), id('s2')]).toEqual([s1, s2]); // a dry run changes nothing

  ok(ts('up', '-d'));
  const [s1After, s2After] = [id('s1'), id('s2')];
  expect(s1After).not.toBe(s1);
  expect(s2After).toBe(s2);
  expect(cat('s1', '/run/secrets/a')).toBe('A2');
  expect(cat('s1', '/run/secrets/a_copy')).toBe('A2');
  expect(cat('s2', '/run/secrets/b')).toBe('B1');
  expect(ok(ts('--dry-run', 'up', '-d'))).toContain('nothing to do');

  // An env_file edit that changes no variable still names the file (and only s2).
  replaceFile(dir, 's2.env', '# edited\nX=1\n');
  const envDry = ok(ts('--dry-run', 'up', '-d'));
  expect(envDry).toMatch(/service:s2:1, CreateContainer, s2\.env changed \(/);
  expect(envDry).not.toContain('service:s1');
}

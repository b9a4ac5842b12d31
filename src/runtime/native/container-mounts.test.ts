/** compose `volume.subpath` on the native runtime (./container-mounts.ts volumeSubpath), and volume copy-up. */
import { afterEach, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsComposeError } from '../../errors.js';
import { copyUp, volumeSubpath } from './container-mounts.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function volume(): string {
  const r = mkdtempSync(join(tmpdir(), 'tsc-subpath-'));
  roots.push(r);
  const data = join(r, '_data');
  mkdirSync(join(data, 'site/html'), { recursive: true });
  writeFileSync(join(data, 'site/html/index.html'), 'hi');
  symlinkSync('/etc', join(data, 'escape'));
  return data;
}

async function err(p: Promise<unknown>): Promise<TsComposeError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TsComposeError) return e;
    throw e;
  }
  throw new Error('expected a TsComposeError');
}

describe('volumeSubpath', () => {
  test('a directory or file of the volume', async () => {
    const data = volume();
    expect(await volumeSubpath(data, 'site/html')).toBe(join(data, 'site/html'));
    expect(await volumeSubpath(data, './site/html/')).toBe(join(data, 'site/html'));
    expect(await volumeSubpath(data, 'site/html/index.html')).toBe(join(data, 'site/html/index.html'));
  });

  test("a missing one: Docker's message (it must exist)", async () => {
    const data = volume();
    const e = await err(volumeSubpath(data, 'nope'));
    expect(e.code).toBe('TSC_VOLUME_SUBPATH_MISSING');
    expect(e.message).toBe(`cannot access path ${data}/nope: lstat ${data}/nope: no such file or directory`);
  });

  test('.. and absolute paths are refused; a symlink is resolved inside the volume', async () => {
    const data = volume();
    expect((await err(volumeSubpath(data, '../x'))).message).toBe(`path concatenation escapes the base directory, base: ${data}, subpath: ../x`);
    expect((await err(volumeSubpath(data, 'site/../../x'))).code).toBe('TSC_INVALID_MOUNT');
    expect((await err(volumeSubpath(data, '/etc'))).code).toBe('TSC_INVALID_MOUNT');
    // escape -> /etc is taken inside the volume: <data>/etc, which does not exist
    expect((await err(volumeSubpath(data, 'escape'))).code).toBe('TSC_VOLUME_SUBPATH_MISSING');
  });
});

describe('copyUp', () => {
  function world(): { rootfs: string; data: string } {
    const r = mkdtempSync(join(tmpdir(), 'tsc-copyup-'));
    roots.push(r);
    const rootfs = join(r, 'rootfs');
    mkdirSync(join(rootfs, 'srv/app'), { recursive: true });
    for (const f of ['a', 'b', 'c']) writeFileSync(join(rootfs, 'srv/app', f), f);
    const data = join(r, 'volume', '_data');
    mkdirSync(data, { recursive: true });
    return { rootfs, data };
  }
  const deadPid = (): number => {
    const r = spawnSync('sh', ['-c', 'echo $$']);
    return Number(r.stdout.toString().trim());
  };

  test("an empty volume gets the image's files; one with files of its own is left alone", async () => {
    const { rootfs, data } = world();
    await copyUp(rootfs, '/srv/app', data);
    expect(readdirSync(data).sort()).toEqual(['a', 'b', 'c']);
    expect(existsSync(join(data, '..', 'copy-up'))).toBe(false);
    const other = world();
    writeFileSync(join(other.data, 'mine'), 'x');
    await copyUp(other.rootfs, '/srv/app', other.data);
    expect(readdirSync(other.data)).toEqual(['mine']);
  });

  test('a copy cut off (its marker names a gone process) is done again over what it left', async () => {
    const { rootfs, data } = world();
    writeFileSync(join(data, 'a'), 'a'); // what the killed copy got to
    writeFileSync(join(data, '..', 'copy-up'), String(deadPid()));
    await copyUp(rootfs, '/srv/app', data);
    expect(readdirSync(data).sort()).toEqual(['a', 'b', 'c']);
    expect(existsSync(join(data, '..', 'copy-up'))).toBe(false);
  });
});

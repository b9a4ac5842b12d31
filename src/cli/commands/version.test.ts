import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nativeOciRuntime, type NativeOciRuntimeInfo } from '../../runtime/select.js';
import { packageVersion, VERSION, versionText } from './version.js';

const CRUN: NativeOciRuntimeInfo = { name: 'crun', path: '/usr/bin/crun', reason: "crun runs on this host's cgroups (cgroup v2)" };
const never = (): Promise<NativeOciRuntimeInfo> => Promise.reject(new Error('the OCI runtime was looked up'));

describe('version', () => {
  test("the number is package.json's version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    const dir = mkdtempSync(join(tmpdir(), 'tscompose-version-'));
    writeFileSync(join(dir, 'package.json'), '{"name":"x"}');
    expect(() => packageVersion(pathToFileURL(join(dir, 'package.json')))).toThrow('has no version');
    rmSync(dir, { recursive: true, force: true });
  });
  test('short by default, as docker compose: the OCI runtime is not even looked up', async () => {
    expect(await versionText({}, never)).toBe(`tscompose version v${VERSION}\n`);
    expect(await versionText({ short: true }, never)).toBe(`${VERSION}\n`);
    expect(await versionText({ short: true, format: 'json' }, never)).toBe(`${VERSION}\n`);
  });
  test('--verbose adds the native OCI runtime and why', async () => {
    expect(await versionText({ verbose: true }, () => Promise.resolve(CRUN))).toBe(
      `tscompose version v${VERSION}\nnative OCI runtime: crun (/usr/bin/crun), because crun runs on this host's cgroups (cgroup v2)\n`,
    );
    expect(await versionText({ verbose: true }, () => Promise.resolve({ error: 'no OCI runtime found' }))).toBe(
      `tscompose version v${VERSION}\nnative OCI runtime: none (no OCI runtime found)\n`,
    );
  });
  test('--format json: docker compose\'s {"version"} plus nativeOciRuntime', async () => {
    expect(JSON.parse(await versionText({ format: 'json' }, () => Promise.resolve(CRUN)))).toEqual({
      version: `v${VERSION}`,
      nativeOciRuntime: CRUN,
    });
  });
  test('another format is a usage error', async () => {
    await expect(versionText({ format: 'yaml' }, never)).rejects.toMatchObject({ code: 'TSC_USAGE' });
  });
  test('nativeOciRuntime: as the native runtime chooses, TSCOMPOSE_OCI_RUNTIME included', async () => {
    const forced = await nativeOciRuntime({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', TSCOMPOSE_OCI_RUNTIME: '/nonexistent/runc' });
    expect(forced).toEqual({ error: 'TSCOMPOSE_OCI_RUNTIME=/nonexistent/runc is not an executable file' });
    expect(await nativeOciRuntime({ TSCOMPOSE_OCI_RUNTIME: 'youki' })).toEqual({
      error: 'TSCOMPOSE_OCI_RUNTIME must be runc, crun or an absolute path, not "youki"',
    });
  });
});

/**
 * The npm package as a user gets it (issue 18, "Packaging"): a fresh clone of this checkout's HEAD, `npm ci`, `npm pack`
 * (whose `prepack` builds: tsc without source maps, then the bundle), and the tarball installed globally into a
 * temporary prefix. The installed `tscompose` must print package.json's version and run `config` on an example, with
 * the bundle and with the unbundled build, on a dependency tree `npm ls` finds consistent (commander and its typings
 * package agree) and without Ajv (the schema validator is generated at build time). The tarball must hold the build,
 * LICENSE and README, and no tests, fixtures, test-only fakes or source maps (their sources are not shipped).
 *
 * Slow (npm ci, the build, a global install: minutes), so it is a heavy test: `npm run test:heavy -- test/heavy/package.test.ts`.
 * Uncommitted changes are not part of it: it packs what a clone gets. Needs git, npm and the registry (or npm's cache).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tscompose-package-'));
const clone = join(work, 'clone');
const prefix = join(work, 'prefix');
const installed = join(prefix, 'lib/node_modules/tscompose');
const tscompose = join(prefix, 'bin/tscompose');

/** The environment without what `npm run` puts in it (npm_config_* would configure the npm we start). */
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
// The installed CLI keeps its V8 code cache here, not in the user's ~/.cache.
env.XDG_CACHE_HOME = join(work, 'cache');

function run(cmd: string, args: readonly string[], opts: SpawnSyncOptions = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Runs a setup step that must succeed; its output is in the error when it does not. */
function must(cmd: string, args: readonly string[], opts: SpawnSyncOptions = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

let tarball = '';
let entries: string[] = [];
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

beforeAll(() => {
  must('git', ['clone', '--quiet', root, clone]);
  must('npm', ['ci', '--ignore-scripts=false', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: clone });
  const dest = join(work, 'pack');
  mkdirSync(dest);
  must('npm', ['pack', '--ignore-scripts=false', '--pack-destination', dest], { cwd: clone });
  const tgz = readdirSync(dest).filter((f) => f.endsWith('.tgz'));
  expect(tgz).toEqual([`tscompose-${version}.tgz`]);
  tarball = join(dest, tgz[0]!);
  entries = must('tar', ['tzf', tarball])
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^package\//, ''));
  must('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball]);
}, 1_800_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the npm package', () => {
  test('holds the build, LICENSE and README; no tests, fixtures, test-only fakes or source maps', () => {
    for (const f of [
      'package.json',
      'LICENSE',
      'README.md',
      'bin/tscompose',
      'bin/launch.cjs',
      'dist/tscompose.cjs',
      'dist/cli/main.js',
      'dist/index.js',
    ]) {
      expect(entries).toContain(f);
    }
    expect(entries).toContain('dist/index.d.ts');
    expect(entries).toContain('schemas/compose-spec.validator.js');
    expect(entries).toContain('dist/runtime/fake/fake-runtime.js'); // `--dry-run` with no engine plans against it
    const unwanted = entries.filter((f) =>
      /\.map$|\.test\.|__fixtures__|\/contract\/suite\.|^dist\/swarm\/fake\/|^dist\/runtime\/contract\/|^(src|test)\//.test(f),
    );
    expect(unwanted).toEqual([]);
    // Built without source maps, so nothing points at a missing .map either.
    const main = readFileSync(join(installed, 'dist/cli/main.js'), 'utf8');
    expect(main).not.toContain('sourceMappingURL');
  });

  test('its package.json: license, links, platforms; Ajv only at build time; commander as its typings expect', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown> & {
      dependencies: Record<string, string>;
    };
    expect(pkg).toMatchObject({ license: 'Apache-2.0', os: ['linux'], engines: { node: expect.any(String) } });
    for (const k of ['repository', 'homepage', 'bugs', 'keywords']) expect(pkg[k]).toBeDefined();
    expect(pkg.dependencies.ajv).toBeUndefined();
    expect(existsSync(join(installed, 'node_modules/ajv'))).toBe(false);
    // npm ls fails on an unmet or invalid peer dependency (@commander-js/extra-typings pins commander's minor).
    const ls = run('npm', ['ls', '--global', '--prefix', prefix, '--all']);
    expect(ls.stderr).toBe('');
    expect(ls.status).toBe(0);
  });

  test('the installed tscompose prints the package.json version', () => {
    expect(run(tscompose, ['version'])).toMatchObject({ status: 0, stdout: `tscompose version v${version}\n` });
    expect(run(tscompose, ['version', '--short'])).toMatchObject({ status: 0, stdout: `${version}\n` });
    expect(run(tscompose, ['--version'])).toMatchObject({ status: 0, stdout: `${version}\n` });
  });

  test.each([
    ['the bundle', {}],
    ['the unbundled build', { TSCOMPOSE_NO_BUNDLE: '1' }],
  ])('the installed tscompose runs config on an example (%s)', (_, extra) => {
    const example = join(clone, 'examples/flask-redis/compose.yaml');
    const r = run(tscompose, ['-f', example, 'config'], { env: { ...env, ...extra }, cwd: work });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^name: flask-redis$/m);
    expect(r.stdout).toMatch(/^ {2}redis:\n {4}image: redis:7$/m);
    expect(r.stdout).toMatch(/^ {2}web:$/m);
    const services = run(tscompose, ['-f', join(clone, 'examples/dockercoins/compose.yaml'), 'config', '--services'], { env: { ...env, ...extra } });
    expect(services.status).toBe(0);
    expect(services.stdout.split('\n').filter(Boolean).sort()).toEqual(['hasher', 'redis', 'rng', 'webui', 'worker']);
  });
});

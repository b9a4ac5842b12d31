/**
 * End-to-end: the native builder against Docker's. Each Dockerfile under fixtures/build/<case>/ is built with
 * `bin/tscompose --runtime native build` (a private state directory, NativeSuite) and with `--runtime docker build`;
 * both images are saved (`image save -o`) and read back by image-manifest.ts. The two must have the same filesystem
 * (paths, types, modes, owners, link targets, content hashes, hard-link groups; not mtimes) and the same config
 * (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels, Healthcheck, StopSignal, OnBuild, Shell;
 * not created times, history or ids). Where Docker's classic builder and BuildKit differ, BuildKit is the reference:
 * the Docker half must say `using BuildKit`, except for cases the classic builder builds the same way.
 *
 * Also: a natively built image pushed to the local registry runs on Docker.
 *
 * The Docker half is skipped when no engine answers, and fails with TSCOMPOSE_E2E=1 (as the other e2e tests).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, docker, engine, env, Projects, required, requireEngine, root, tsc } from './helpers.js';
import { diffConfigs, diffManifests, readImageArchive, type ImageSummary } from './image-manifest.js';
import { capable, nativeDescribe, NativeSuite, ok, REGISTRY } from './native-harness.js';

interface Case {
  readonly name: string;
  /** compose build.args */
  readonly args?: Record<string, string>;
  /** Why Docker's classic builder cannot build it (or builds it differently): the Docker half needs BuildKit. */
  readonly buildkitOnly?: string;
  /**
   * Known differences of the native builder in these paths, reported to the builder's owner: the rest of the
   * filesystem must be equal, and a test.failing asserts these paths (it fails, so passes, until the bug is fixed).
   */
  readonly nativeBugs?: readonly { readonly paths: readonly string[]; readonly why: string }[];
  /**
   * Behaviour BuildKit changed in the BuildKit of Docker `docker` (major, minor): the native builder follows the
   * newer BuildKit, so on an older engine these paths (`/x/**`: and everything under) differ: logged, not failed.
   */
  readonly newerBuildkit?: readonly { readonly docker: readonly [number, number]; readonly paths: readonly string[]; readonly why: string }[];
}

const FIXTURES = join(root, 'test/e2e/fixtures/build');
const CASES: readonly Case[] = [
  // COPY --from=base /out/*.sh of two hard-linked files: one copy per match, as BuildKit (no link across matches)
  { name: 'multi-stage' },
  {
    name: 'arg-env',
    args: { OVERRIDDEN: 'from-compose', BASE_NOTE: 'from-args' },
    buildkitOnly: 'an ARG after an ENV of the same name: RUN sees the ARG in BuildKit, the ENV in the classic builder',
  },
  {
    name: 'user-chown',
    buildkitOnly: "--chown=user without a group: BuildKit takes the user's primary group, the classic builder a group named user",
  },
  { name: 'workdir', buildkitOnly: 'the classic builder makes WORKDIR directories root-owned, BuildKit owned by USER' },
  { name: 'dockerignore' },
  { name: 'heredocs', buildkitOnly: "heredocs (Docker < 23: the Docker backend rewrites them for the engine's Dockerfile frontend)" },
  {
    name: 'cache-mount',
    buildkitOnly: 'RUN --mount',
    newerBuildkit: [
      {
        docker: [24, 0],
        paths: ['/var/cache', '/var/cache/app', '/c2', '/root/.cache', '/scratch'],
        why: 'BuildKit < 0.11 leaves the directories it made for mount points (executor stubs cleaner removed empty files only)',
      },
    ],
  },
  {
    name: 'copy-chmod',
    buildkitOnly: 'COPY --chmod',
    newerBuildkit: [
      {
        docker: [28, 1],
        paths: ['/data', '/data/new', '/tree'],
        why: 'BuildKit < 0.21 (fsutil copy) makes a COPY --chmod destination and its parents 0755',
      },
    ],
  },
  {
    name: 'add-archive',
    buildkitOnly: 'ADD --chown of an archive: BuildKit makes the destination directory owned by --chown, the classic builder root-owned',
    newerBuildkit: [{ docker: [28, 3], paths: ['/chowned/pkg/**'], why: 'BuildKit < 0.23 ignores ADD --chown for what it extracts from an archive' }],
  },
  { name: 'onbuild' },
  { name: 'deletions' },
  { name: 'config', buildkitOnly: 'WORKDIR after USER: BuildKit makes it owned by USER' },
  { name: 'entrypoint-reset' },
];

const suite = new NativeSuite();
const projects = new Projects();
const out = mkdtempSync(join(tmpdir(), 'tscompose-build-compare-'));
const nonce = Math.random().toString(36).slice(2, 8);
const tagOf = (c: Case): string => `tscompose-e2e/cmp-${c.name}:${nonce}`;
const withDocker = engine || required;
const engineVersion = engine ? docker('version', '--format', '{{.Server.Version}}') : '';
/** The engine is older than Docker `v` (major, minor). */
function engineBefore(v: readonly [number, number]): boolean {
  const [major = 0, minor = 0] = engineVersion.split('.').map((n) => parseInt(n, 10));
  return major < v[0] || (major === v[0] && minor < v[1]);
}
const dockerImages: string[] = [];
interface Result {
  fs?: boolean;
  config?: boolean;
  builder?: string;
  /** differences left to an engine with an older BuildKit */
  older?: number;
}
const results = new Map<string, Result>();

function composeFile(c: Case): string {
  const build = { context: join(FIXTURES, c.name), ...(c.args ? { args: c.args } : {}) };
  return `services:\n  img:\n    build: ${JSON.stringify(build)}\n    image: ${JSON.stringify(tagOf(c))}\n`;
}

function dockerCli(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(bin, ['--runtime', 'docker', ...args], { cwd: out, encoding: 'utf8', env, timeout: 180_000 });
}

const run = nativeDescribe ? describe : describe.skip;

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
  requireEngine();
});
afterAll(() => {
  if (dockerImages.length && engine) spawnSync('docker', ['rmi', '-f', ...dockerImages]);
  if (engine) projects.cleanup();
  if (capable) suite.cleanup();
  rmSync(out, { recursive: true, force: true });
  const rows = CASES.map((c) => {
    const r = results.get(c.name) ?? {};
    const mark = (v: boolean | undefined): string => (v === undefined ? '-' : v ? 'equal' : 'DIFFERS');
    const older = r.older ? ` (${r.older} paths differ as the engine's older BuildKit builds them)` : '';
    return `${c.name.padEnd(18)} fs ${mark(r.fs).padEnd(8)} config ${mark(r.config).padEnd(8)} docker: ${r.builder ?? '-'}${older}`;
  });
  console.log(`native vs docker build\n${rows.join('\n')}`);
}, 180_000);

test('every fixture directory is a case', () => {
  expect(readdirSync(FIXTURES).sort()).toEqual(CASES.map((c) => c.name).sort());
});

run('native build vs docker build', () => {
  describe.each(CASES)('$name', (c) => {
    let native: ImageSummary | undefined;
    let dockerBuilt: ImageSummary | undefined;
    const result = (): Result => results.get(c.name) ?? results.set(c.name, {}).get(c.name)!;

    test('builds natively and saves', async () => {
      const p = suite.project({ 'compose.yaml': composeFile(c) });
      ok(suite.ts(p, 'build'));
      const file = join(out, `${c.name}-native.tar`);
      ok(suite.ts(undefined, 'image', 'save', '-o', file, tagOf(c)));
      [native] = await readImageArchive(file);
      expect(native?.fs.length).toBeGreaterThan(0);
    }, 300_000);

    (withDocker ? test : test.skip)(
      'builds with --runtime docker and saves',
      async () => {
        const p = projects.create({ 'compose.yaml': composeFile(c) });
        const r = tsc(p, 'build');
        dockerImages.push(tagOf(c));
        const builder = /using BuildKit/.test(r.stderr + r.stdout) ? 'BuildKit' : 'classic';
        result().builder = builder;
        if (c.buildkitOnly && builder !== 'BuildKit') {
          throw new Error(`pending on BuildKit in the Docker backend (${c.buildkitOnly}); the classic builder was used:\n${r.stderr}`);
        }
        ok(r);
        const file = join(out, `${c.name}-docker.tar`);
        ok(dockerCli('image', 'save', '-o', file, tagOf(c)));
        [dockerBuilt] = await readImageArchive(file);
      },
      300_000,
    );

    /** `path` or, for `/x/**`, `/x` and everything under it, is one of `paths`. */
    const among = (paths: readonly string[], p: string): boolean =>
      paths.some((q) => (q.endsWith('/**') ? p === q.slice(0, -3) || p.startsWith(q.slice(0, -2)) : p === q));
    const bugPaths = (c.nativeBugs ?? []).flatMap((b) => b.paths);
    const compareConfig = (): void => {
      if (!native || !dockerBuilt) throw new Error('not built (see the build tests above)');
      const diff = diffConfigs(native.config, dockerBuilt.config, ['native', 'docker']);
      result().config = diff.length === 0;
      expect(diff).toEqual([]);
    };
    /** The filesystems, but for the paths `leave` accepts. */
    const compareFs = (leave: (p: string) => boolean): void => {
      if (!native || !dockerBuilt) throw new Error('not built (see the build tests above)');
      const names: [string, string] = ['native', 'docker'];
      const newer = (c.newerBuildkit ?? []).filter((n) => engineBefore(n.docker));
      const older = (p: string): boolean => newer.some((n) => among(n.paths, p));
      const diff = diffManifests(native.fs, dockerBuilt.fs, names, (p) => leave(p) || older(p));
      const skipped = diffManifests(native.fs, dockerBuilt.fs, names, (p) => leave(p) || !older(p));
      if (skipped.length) {
        result().older = skipped.length / 2;
        const why = newer.map((n) => `Docker ${engineVersion} is older than ${n.docker.join('.')}: ${n.why}`).join('\n');
        console.log(`${c.name}: differences left to the engine's older BuildKit\n${why}\n${skipped.join('\n')}`);
      }
      if (diff.length) result().fs = false;
      expect(diff).toEqual([]);
    };
    const doc = withDocker ? test : test.skip;
    doc('same filesystem as Docker', () => {
      compareFs((p) => among(bugPaths, p));
      result().fs ??= bugPaths.length === 0;
    });
    for (const bug of c.nativeBugs ?? []) {
      (withDocker ? test.failing : test.skip)(`same ${bug.paths.join(', ')} as Docker [native builder bug: ${bug.why}]`, () =>
        compareFs((p) => !among(bug.paths, p)),
      );
    }
    doc('same config as Docker', compareConfig);
  });

  (withDocker ? test : test.skip)(
    'a natively built image pushed to the local registry runs on Docker',
    () => {
      const ref = `${REGISTRY}/tscompose-e2e/native-built:${nonce}`;
      const p = suite.project({
        'compose.yaml': `services:\n  app:\n    build: .\n    image: ${ref}\n`,
        Dockerfile:
          'FROM busybox:latest\nCOPY msg.txt /msg.txt\nRUN echo built natively >> /msg.txt\nUSER 1234\nCMD ["sh", "-c", "cat /msg.txt; id -u"]\n',
        'msg.txt': 'hello\n',
      });
      ok(suite.ts(p, 'build'));
      ok(suite.ts(p, 'push'));
      dockerImages.push(ref);
      expect(docker('run', '--rm', '--pull', 'always', ref)).toBe('hello\nbuilt natively\n1234');
    },
    300_000,
  );

  (withDocker ? test : test.skip)(
    'image save and load both ways: a native build runs on Docker, a Docker build runs natively',
    () => {
      const files = {
        'compose.yaml': `services:\n  app:\n    build: .\n    image: tscompose-e2e-saveload:${nonce}\n`,
        Dockerfile: 'FROM busybox:latest\nRUN echo saved > /msg.txt\nCMD ["cat", "/msg.txt"]\n',
      };
      const ref = `tscompose-e2e-saveload:${nonce}`;
      const archive = join(mkdtempSync(join(tmpdir(), 'tscompose-saveload-')), 'img.tar');
      // native → Docker
      const n = suite.project(files);
      ok(suite.ts(n, 'build'));
      ok(suite.ts(undefined, 'image', 'save', '-o', archive, ref));
      docker('load', '-i', archive);
      dockerImages.push(ref);
      expect(docker('run', '--rm', ref)).toBe('saved');
      // Docker → native (the native copy removed first)
      ok(suite.ts(undefined, 'image', 'rm', ref));
      docker('save', '-o', archive, ref);
      ok(suite.ts(undefined, 'image', 'load', '-i', archive));
      expect(ok(suite.ts(n, 'run', '--rm', '--no-deps', '-T', 'app'))).toBe('saved\n');
      rmSync(join(archive, '..'), { recursive: true, force: true });
    },
    300_000,
  );
});

/**
 * End-to-end: `build:` on the native runtime (bin/tscompose --runtime native build / up --build) against the real OCI
 * runtime and overlayfs. Base images come from the local registry (scripts/engine-env.sh). Covers multi-stage with
 * COPY --from, ARG/ENV expansion, USER with --chown, WORKDIR creation, .dockerignore, heredocs, a cache mount,
 * ONBUILD, deletions from lower layers; the cache (no change: every step CACHED; one changed file: from the step that
 * reads it); errors (a failing RUN, a syntax error, a missing COPY source) and Ctrl-C leaving nothing behind.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
});
afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

export const FEATURES_DOCKERFILE = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM \${BASE}:latest AS builder
ARG MSG=hi
ENV OUT=/out
RUN mkdir -p $OUT && echo "$MSG" > $OUT/msg.txt
RUN <<EOT
echo from-heredoc > /out/h.txt
EOT
RUN --mount=type=cache,target=/cache sh -c 'echo x >> /cache/log; wc -l < /cache/log > /out/cache-count'

FROM busybox:latest AS onb
ONBUILD RUN echo triggered > /trig.txt

FROM onb
RUN echo "app:x:1234:1234::/home/app:/bin/sh" >> /etc/passwd && echo "app:x:1234:" >> /etc/group
USER app
WORKDIR /home/app/work
COPY --from=builder --chown=app:app /out/ ./out/
COPY --chmod=755 src/ /srv/
COPY <<EOF /etc/greeting
hello \${OUT:-unset}
EOF
USER root
RUN rm -f /bin/vi
EXPOSE 8080/tcp 9000-9001
VOLUME /data
LABEL a=b
HEALTHCHECK --interval=5s CMD true
STOPSIGNAL SIGINT
CMD ["sh"]
`;

function buildProject(): NativeProject {
  return suite.project({
    'compose.yaml': `services:\n  app:\n    build:\n      context: .\n      args: { MSG: "from compose" }\n    image: nb-app:1\n`,
    Dockerfile: FEATURES_DOCKERFILE,
    'src/a.sh': 'echo a\n',
    'src/ignored.txt': 'no\n',
    '.dockerignore': 'src/ignored.txt\n',
  });
}

/** The progress (stderr) of a command that succeeded. */
const log = (r: ReturnType<typeof suite.ts>): string => {
  ok(r);
  return r.stderr;
};
const sh = (p: NativeProject, cmd: string): string => ok(suite.ts(p, 'run', '--rm', '--no-deps', '-T', 'app', 'sh', '-c', cmd)).trim();

run('native build e2e', () => {
  let p: NativeProject;

  test('a multi-stage Dockerfile builds: files, owners, modes, deletions, config', () => {
    p = buildProject();
    const hostNull = statSync('/dev/null');
    const out = log(suite.ts(p, 'build'));
    // RUN steps leave the host's /dev/null alone (crun 1.8 chowned it when it was a step's stdin: its ctime changed)
    expect(statSync('/dev/null').ctimeMs).toBe(hostNull.ctimeMs);
    expect(out).toMatch(/\[app builder 2\/4\] RUN mkdir -p \$OUT/);
    expect(out).toContain('Built');
    // a build alone (no container made yet) leaves the state directory private: its RUN steps held secrets there
    expect((statSync(suite.env['TSCOMPOSE_STATE_DIR']!).mode & 0o777).toString(8)).toBe('700');
    expect(sh(p, 'cat /home/app/work/out/msg.txt /home/app/work/out/h.txt /trig.txt /etc/greeting')).toBe(
      'from compose\nfrom-heredoc\ntriggered\nhello unset',
    );
    expect(sh(p, 'stat -c "%U:%G %a" /home/app/work /home/app/work/out/msg.txt /srv/a.sh')).toBe('app:app 755\napp:app 644\nroot:root 755');
    expect(sh(p, 'ls /srv; test -e /bin/vi && echo vi-present || echo vi-gone')).toBe('a.sh\nvi-gone');
    const [img] = JSON.parse(ok(suite.ts(undefined, 'image', 'inspect', 'nb-app:1'))) as { Config: Record<string, unknown> }[];
    const c = img!.Config;
    expect(c['Cmd']).toEqual(['sh']);
    expect(c['WorkingDir']).toBe('/home/app/work');
    expect(c['User']).toBe('root');
    expect(c['Env']).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    expect(Object.keys(c['ExposedPorts'] as object).sort()).toEqual(['8080/tcp', '9000/tcp', '9001/tcp']);
    expect(c['Volumes']).toEqual({ '/data': {} });
    expect((c['Labels'] as Record<string, string>)['a']).toBe('b');
    expect(c['StopSignal']).toBe('SIGINT');
  }, 300_000);

  test('no change: every step from the cache; a changed file: from the step that reads it; the cache mount persists', () => {
    const again = log(suite.ts(p, 'build'));
    expect((again.match(/DONE/g) ?? []).length).toBe(3); // the FROM steps
    expect((again.match(/CACHED/g) ?? []).length).toBe(3 + 1 + 6);
    writeFileSync(join(p.dir, 'src', 'a.sh'), 'echo b\n');
    writeFileSync(join(p.dir, 'src', 'ignored.txt'), 'changed but ignored\n');
    const changed = log(suite.ts(p, 'build'));
    expect(changed).toMatch(/#\d+ \[app stage-2 5\/8\] COPY --from=builder[^\n]*\n#\d+ CACHED/);
    expect(changed).toMatch(/#(\d+) \[app stage-2 6\/8\] COPY --chmod=755[^\n]*\n(?:#\d+ [^\n]*\n)*?#\1 DONE/);
    expect(sh(p, 'cat /srv/a.sh')).toBe('echo b');
    ok(suite.ts(p, 'build', '--no-cache'));
    expect(sh(p, 'cat /home/app/work/out/cache-count')).toBe('2');
    // builder prune: the entries go, the next build runs every step again
    expect(ok(suite.ts(undefined, 'builder', 'prune', '-f'))).toMatch(/Deleted build cache entries: [1-9]/);
    expect(log(suite.ts(p, 'build'))).not.toContain('CACHED');
  }, 300_000);

  test('cache_from: the steps an image built here records seed an empty cache', () => {
    const c = suite.project({
      'compose.yaml': 'services:\n  x:\n    build:\n      context: .\n      cache_from: [nb-cachefrom:1]\n    image: nb-cachefrom:1\n',
      Dockerfile: 'FROM busybox:latest\nWORKDIR /w\nRUN echo built > f\nCOPY a.txt .\n',
      'a.txt': 'a\n',
    });
    ok(suite.ts(c, 'build'));
    ok(suite.ts(undefined, 'builder', 'prune', '-f'));
    const again = log(suite.ts(c, 'build'));
    expect((again.match(/CACHED/g) ?? []).length).toBe(3);
  }, 120_000);

  test('build.network none has no interface but lo; the default one has a way out; another platform is refused', () => {
    const n = suite.project({
      'compose.yaml':
        'services:\n  none:\n    build: { context: ., dockerfile: none.Dockerfile, network: none }\n    image: nb-none:1\n' +
        '  def:\n    build: { context: ., dockerfile: def.Dockerfile }\n    image: nb-def:1\n' +
        '  arm:\n    build: { context: ., platforms: [linux/s390x] }\n    image: nb-arm:1\n',
      'none.Dockerfile': 'FROM busybox:latest\nRUN ls /sys/class/net > /ifaces\n',
      'def.Dockerfile': 'FROM busybox:latest\nRUN ls /sys/class/net > /ifaces && ip route | grep -q default\n',
      Dockerfile: 'FROM busybox:latest\n',
    });
    ok(suite.ts(n, 'build', 'none', 'def'));
    expect(ok(suite.ts(n, 'run', '--rm', '--no-deps', '-T', 'none', 'cat', '/ifaces')).trim()).toBe('lo');
    expect(ok(suite.ts(n, 'run', '--rm', '--no-deps', '-T', 'def', 'cat', '/ifaces'))).toContain('eth0');
    const r = suite.ts(n, 'build', 'arm');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the native builder builds for this machine's platform only");
    expect(suite.leftovers()).toEqual([]);
  }, 120_000);

  test('ADD extracts a local tar archive and fetches a URL (checksum verified)', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const server = spawn(process.execPath, [
      '-e',
      `require('http').createServer((q, r) => r.end('fetched\\n')).listen(${port}, '127.0.0.1', () => console.log('up'))`,
    ]);
    await new Promise((r) => server.stdout.once('data', r));
    try {
      const sha = createHash('sha256').update('fetched\n').digest('hex');
      const a = suite.project({
        'compose.yaml': 'services:\n  a:\n    build: .\n    image: nb-add:1\n',
        Dockerfile: `FROM busybox:latest\nADD files.tar.gz /opt/\nADD --checksum=sha256:${sha} http://127.0.0.1:${port}/dl/f.txt /web/\n`,
      });
      spawnSync('sh', ['-c', 'mkdir -p t/sub && echo inside > t/sub/in.txt && tar -C t -czf files.tar.gz sub && rm -r t'], { cwd: a.dir });
      ok(suite.ts(a, 'build'));
      expect(ok(suite.ts(a, 'run', '--rm', '--no-deps', '-T', 'a', 'cat', '/opt/sub/in.txt', '/web/f.txt'))).toBe('inside\nfetched\n');
    } finally {
      server.kill();
    }
  }, 120_000);

  test('RUN --mount: secrets from compose build.secrets (file and environment), binds of the context and of a stage', () => {
    const m = suite.project({
      'compose.yaml': `services:
  m:
    build:
      context: .
      secrets: [tok, { source: key, target: api_key }]
    image: nb-mounts:1
secrets:
  tok: { file: ./tok.txt }
  key: { environment: NB_KEY }
`,
      'tok.txt': 'file-token',
      'data/in.txt': 'bound\n',
      Dockerfile: `FROM busybox:latest AS gen
RUN echo from-stage > /gen.txt
FROM busybox:latest
RUN --mount=type=secret,id=tok --mount=type=secret,id=api_key,env=API_KEY cat /run/secrets/tok > /tok && echo "$API_KEY" > /key && stat -c %a /run/secrets/tok > /mode
RUN --mount=type=bind,source=data,target=/mnt/data --mount=type=bind,from=gen,source=/gen.txt,target=/mnt/gen.txt cat /mnt/data/in.txt /mnt/gen.txt > /bound
RUN --mount=type=bind,source=data,target=/mnt/rw,rw echo scribble > /mnt/rw/in.txt && cat /mnt/rw/in.txt > /rw-seen
`,
    });
    const r = spawnSync(bin, ['-p', m.name, '--progress', 'plain', 'build'], {
      cwd: m.dir,
      env: { ...suite.env, NB_KEY: 'env-key' },
      encoding: 'utf8',
    });
    ok(r);
    expect(
      ok(
        suite.ts(
          m,
          'run',
          '--rm',
          '--no-deps',
          '-T',
          'm',
          'sh',
          '-c',
          'cat /tok; echo; cat /key /mode /bound; test -e /run/secrets && echo stub-left || echo no-stub; cat /rw-seen',
        ),
      ),
    ).toBe('file-token\nenv-key\n400\nbound\nfrom-stage\nno-stub\nscribble\n');
    // the rw bind let the step write; the context did not change
    expect(readFileSync(join(m.dir, 'data', 'in.txt'), 'utf8')).toBe('bound\n');
  }, 120_000);

  test('two builds at once (the same project twice, and another one) all succeed with a consistent store', async () => {
    const files = (tag: string) => ({
      'compose.yaml': `services:\n  x:\n    build: .\n    image: ${tag}\n`,
      Dockerfile: 'FROM busybox:latest\nRUN for i in $(seq 1 100); do echo $i > /f$i; done\nCOPY . /ctx/\n',
    });
    const a = suite.project(files('nb-par-a:1'));
    const b = suite.project(files('nb-par-b:1'));
    const build = (p: NativeProject) =>
      new Promise<number | null>((resolve) => {
        const c = spawn(bin, ['-p', p.name, '--progress', 'quiet', 'build'], { cwd: p.dir, env: suite.env, stdio: 'ignore' });
        c.on('close', resolve);
      });
    expect(await Promise.all([build(a), build(a), build(b)])).toEqual([0, 0, 0]);
    expect(ok(suite.ts(a, 'run', '--rm', '--no-deps', '-T', 'x', 'cat', '/f100'))).toBe('100\n');
    expect(ok(suite.ts(b, 'run', '--rm', '--no-deps', '-T', 'x', 'ls', '/ctx'))).toBe('Dockerfile\ncompose.yaml\n');
    expect(suite.leftovers()).toEqual([]);
  }, 180_000);

  test('services built at once share a step they have in common: it runs once', () => {
    const dockerfile = 'FROM busybox:latest\nRUN sleep 1; date +%s%N > /stamp\n';
    const p = suite.project({
      'compose.yaml': 'services:\n  a:\n    build: .\n    image: nb-share-a:1\n  b:\n    build: .\n    image: nb-share-b:1\n',
      Dockerfile: dockerfile,
    });
    const out = log(suite.ts(p, 'build'));
    expect((out.match(/RUN sleep 1/g) ?? []).length).toBe(2);
    expect((out.match(/#\d+ DONE \d/g) ?? []).length).toBe(2 + 1); // the two FROMs and one RUN
    const stamp = (s: string) => ok(suite.ts(p, 'run', '--rm', '--no-deps', '-T', s, 'cat', '/stamp'));
    expect(stamp('a')).toBe(stamp('b'));
  }, 120_000);

  test('a failing RUN names the command, its exit code and its last lines, and leaves nothing behind', () => {
    const f = suite.project({
      'compose.yaml': 'services:\n  x:\n    build: .\n    image: nb-fail:1\n',
      Dockerfile: 'FROM busybox:latest\nRUN echo one; echo two >&2; exit 7\n',
    });
    const r = suite.ts(f, 'build');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('process "/bin/sh -c echo one; echo two >&2; exit 7" did not complete successfully: exit code: 7');
    // Its last lines (stdout and stderr are two pipes: their order between each other is not kept).
    expect(r.stderr).toMatch(/\n\s+(one\n\s+two|two\n\s+one)\n/);
    expect(suite.leftovers()).toEqual([]);
  }, 120_000);

  test('a syntax error names file:line; a missing COPY source names the path', () => {
    const s = suite.project({ 'compose.yaml': 'services:\n  x:\n    build: .\n', Dockerfile: 'FROM busybox:latest\nFOO bar\n' });
    const r = suite.ts(s, 'build');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Dockerfile:2: unknown instruction: FOO/);
    const m = suite.project({ 'compose.yaml': 'services:\n  x:\n    build: .\n', Dockerfile: 'FROM busybox:latest\nCOPY nothere.txt /x\n' });
    const r2 = suite.ts(m, 'build');
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toContain('"nothere.txt"');
    expect(suite.leftovers()).toEqual([]);
  }, 120_000);

  test('Ctrl-C stops the running step and leaves nothing behind', async () => {
    const c = suite.project({ 'compose.yaml': 'services:\n  x:\n    build: .\n', Dockerfile: 'FROM busybox:latest\nRUN echo started; sleep 60\n' });
    const child = spawn(bin, ['-p', c.name, '--progress', 'plain', 'build'], { cwd: c.dir, env: suite.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t0 = Date.now();
    // the step's own output, not its progress line
    while (!/#\d+ [\d.]+ started/.test(out) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('started');
    const t1 = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).not.toBe(0);
    expect(Date.now() - t1).toBeLessThan(10_000);
    expect(suite.leftovers()).toEqual([]);
  }, 120_000);
});

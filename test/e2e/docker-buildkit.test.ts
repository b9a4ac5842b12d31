/**
 * End-to-end, `tscompose --runtime docker build` through the engine's BuildKit: Dockerfiles that only BuildKit
 * builds (heredocs, `RUN --mount=type=cache|secret`, `COPY --chmod`), compose build options passed through,
 * the progress lines (`using BuildKit`, typed steps `[svc 2/5] RUN …`, CACHED, step output), a failed RUN's error, and
 * the classic builder with DOCKER_BUILDKIT=0. Same conventions as docker.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { bin, docker, engine, env, Projects, required, requireEngine, type TestProject } from './helpers.js';

const run = engine || required ? describe : describe.skip;
const projects = new Projects();
const images: string[] = [];

/** `build` with JSON progress: the exit status, and the builder's lines (each event's details). */
function build(p: TestProject, extraEnv: Record<string, string> = {}, ...args: string[]): { r: SpawnSyncReturns<string>; lines: string[] } {
  const r = spawnSync(bin, ['-p', p.name, '--runtime', 'docker', '--progress', 'json', 'build', ...args], {
    cwd: p.dir,
    encoding: 'utf8',
    env: { ...env, ...extraEnv },
    timeout: 300_000,
  });
  const lines = r.stdout
    .split('\n')
    .concat(r.stderr.split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { details?: string }).details)
    .filter((d): d is string => d !== undefined);
  return { r, lines };
}

function ok(res: { r: SpawnSyncReturns<string>; lines: string[] }): string[] {
  if (res.r.status !== 0) throw new Error(`exit ${res.r.status}\nstdout: ${res.r.stdout}\nstderr: ${res.r.stderr}`);
  return res.lines;
}

const inImage = (image: string, script: string): string => docker('run', '--rm', '--entrypoint', 'sh', image, '-c', script);

beforeAll(requireEngine);
afterAll(() => {
  if (images.length) spawnSync('docker', ['rmi', '-f', ...images]);
  projects.cleanup();
});

/** A Dockerfile whose steps no earlier run has cached (`nonce`). */
const dockerfile = (nonce: string): string => `ARG BASE=busybox
FROM $BASE AS base
RUN echo ${nonce} > /nonce
ARG GREETING=unset
RUN <<EOF
echo "$GREETING from a heredoc" > /hello
echo step output line
EOF
COPY <<EOF /etc/motd
motd for $GREETING
EOF
COPY --chmod=755 tool.sh /usr/local/bin/tool
RUN --mount=type=cache,target=/root/.cache date >> /root/.cache/runs && wc -l < /root/.cache/runs > /cache-runs
RUN --mount=type=secret,id=token cp /run/secrets/token /token-copy
RUN --mount=type=secret,id=api_key,required=true cp /run/secrets/api_key /api-copy
RUN <<EOF
#!/bin/sh
echo "shebang script ran as $0" > /shebang
EOF
RUN grep -q '10.9.8.7.*myhost' /etc/hosts && grep -q '10.9.8.6.*other' /etc/hosts && echo has-extra-hosts > /extra-host

FROM base AS final
LABEL from.dockerfile=yes

FROM busybox AS unused
RUN exit 1
`;

run('docker engine e2e: BuildKit builds', () => {
  test('heredocs, cache and secret mounts, COPY --chmod, with build options passed through', () => {
    const p = projects.create({
      Dockerfile: dockerfile(Math.random().toString(36).slice(2)),
      'tool.sh': '#!/bin/sh\necho tool\n',
      'token.txt': 'file-token\n',
      'compose.yaml': `services:
  app:
    build:
      context: .
      target: final
      args:
        GREETING: hello
      labels:
        org.example.built-by: tscompose
      tags: ["tscompose-e2e-bk/extra:t1"]
      extra_hosts: ["myhost:10.9.8.7", "other=10.9.8.6"]
      secrets:
        - token
        - source: api
          target: api_key
secrets:
  token:
    file: ./token.txt
  api:
    environment: TSCOMPOSE_E2E_API_KEY
`,
    });
    const image = `${p.name}-app`;
    images.push(image, 'tscompose-e2e-bk/extra:t1');
    const lines = ok(build(p, { TSCOMPOSE_E2E_API_KEY: 'env-key' }));
    expect(lines[0]).toBe('using BuildKit');
    // steps are typed (the service and stage in their name, as docker compose shows them), other vertices buildx lines
    expect(lines).toContainEqual(expect.stringMatching(/^\[app base 3\/10\] RUN \["\/bin\/sh","-c","echo /));
    expect(lines).toContain('step output line');
    expect(lines).toContainEqual(expect.stringMatching(/^DONE \d+\.\ds$/)); // a builder vertex's own line, its #N taken off
    expect(lines.some((l) => l.includes('unused'))).toBe(false); // the target's stages only

    expect(inImage(image, 'cat /hello /etc/motd /token-copy /api-copy; echo; cat /shebang /extra-host')).toBe(
      'hello from a heredoc\nmotd for hello\nfile-token\nenv-key\nshebang script ran as /dev/pipes/EOF\nhas-extra-hosts',
    );
    expect(inImage(image, 'stat -c %a /usr/local/bin/tool')).toBe('755');
    expect(
      docker('image', 'inspect', '-f', '{{index .Config.Labels "org.example.built-by"}} {{index .Config.Labels "from.dockerfile"}}', image),
    ).toBe('tscompose yes');
    expect(docker('image', 'inspect', '-f', '{{.Id}}', 'tscompose-e2e-bk/extra:t1')).toBe(docker('image', 'inspect', '-f', '{{.Id}}', image));

    // again: every step from the cache
    const again = ok(build(p, { TSCOMPOSE_E2E_API_KEY: 'env-key' }));
    expect(again).toContainEqual(expect.stringMatching(/^CACHED \[app base 3\/10\] RUN /));
    expect(again).not.toContain('step output line'); // not run again
  });

  test('a failing RUN: the command, its exit code and its last output lines', () => {
    const p = projects.create({
      Dockerfile: 'FROM busybox\nRUN for i in $(seq 1 15); do echo out $i; done; exit 3\n',
      'compose.yaml': 'services:\n  bad:\n    build: .\n',
    });
    images.push(`${p.name}-bad`);
    const { r, lines } = build(p);
    expect(r.status).not.toBe(0);
    expect(lines).toContain('[bad 2/2] RUN for i in $(seq 1 15); do echo out $i; done; exit 3'); // its start, and its end
    expect(lines).toContain('out 15');
    expect(r.stderr).toContain('[2/2] RUN for i in $(seq 1 15); do echo out $i; done; exit 3: process "/bin/sh -c for i in $(seq 1 15)');
    expect(r.stderr).toContain('did not complete successfully: exit code: 3\nlast output:\n  out 6\n');
    expect(r.stderr).toContain('  out 15');
    expect(r.stderr).not.toContain('  out 5\n');
  });

  test('a missing secret file fails the build; an undeclared secret is refused by the mount', () => {
    const p = projects.create({
      Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=nope,required=true cat /run/secrets/nope\n',
      'compose.yaml': 'services:\n  s:\n    build: .\n',
    });
    images.push(`${p.name}-s`);
    const { r } = build(p);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/secret nope/);
  });

  test('DOCKER_BUILDKIT=0: the classic builder, said so; heredocs still build (rewritten)', () => {
    const p = projects.create({
      Dockerfile: 'FROM busybox\nRUN <<EOF\necho classic > /c\nEOF\nCOPY <<EOF /d\ndoc\nEOF\n',
      'compose.yaml': 'services:\n  c:\n    build: .\n',
    });
    const image = `${p.name}-c`;
    images.push(image);
    const lines = ok(build(p, { DOCKER_BUILDKIT: '0' }));
    expect(lines[0]).toBe('using the classic builder (DOCKER_BUILDKIT=0)');
    expect(lines).toContain('[c 1/3] FROM busybox'); // the classic builder's `Step 1/3 : FROM busybox`, typed
    expect(inImage(image, 'cat /c /d')).toBe('classic\ndoc');
  });
});

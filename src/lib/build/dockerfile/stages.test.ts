import { describe, expect, it } from '@jest/globals';

import { DEFAULT_PATH, runCommandLine } from './dispatch.js';
import { DockerfileSyntaxError, UnknownTargetError } from './errors.js';
import type { Instruction, RunInstruction } from './instructions.js';
import { formatPlatform, hostPlatform, platformArgs, resolveDockerfile, type ResolveOptions, type StagePlan } from './stages.js';

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM = { os: 'linux', architecture: 'arm', variant: 'v7' };
const resolve = (text: string, options: ResolveOptions = {}): StagePlan => resolveDockerfile(text, 'Dockerfile', { platform: AMD64, ...options });
const steps = (plan: StagePlan, stage = plan.target): Instruction[] => (plan.stages[stage]?.steps ?? []).map((s) => s.instruction);
const errorOf = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('no error');
};

describe('resolveStages: stages and bases', () => {
  it('names stages and finds their bases', () => {
    const plan = resolve('FROM alpine AS Base\nFROM base\nFROM scratch\nFROM later\nFROM debian AS later\n');
    expect(plan.stages.map((s) => [s.name, s.displayName, s.base])).toEqual([
      ['base', 'base', { kind: 'image', ref: 'alpine' }],
      [undefined, 'stage-1', { kind: 'stage', index: 0 }],
      [undefined, 'stage-2', { kind: 'scratch' }],
      [undefined, 'stage-3', { kind: 'image', ref: 'later' }], // a later stage is an image, as BuildKit
      ['later', 'later', { kind: 'image', ref: 'debian' }],
    ]);
    expect(plan.target).toBe(4);
    expect(plan.order).toEqual([4]);
  });

  it('expands FROM with global ARGs, build args and the predefined platform ARGs', () => {
    const text = 'ARG TAG=3.19\nARG IMG=alpine:${TAG}\nFROM --platform=$BUILDPLATFORM ${IMG} AS b\nFROM ${TARGETARCH}/busybox:$TAG\n';
    const plan = resolve(text, { buildArgs: { TAG: '3.20' }, platform: ARM, buildPlatform: AMD64 });
    expect(plan.stages[0]?.from).toMatchObject({ image: 'alpine:3.20', platform: 'linux/amd64' });
    expect(plan.stages[1]?.from.image).toBe('arm/busybox:3.20');
    expect(plan.globalArgs.get('TARGETPLATFORM')).toBe('linux/arm/v7');
  });

  it('refuses a blank base, instructions before FROM, no FROM, duplicate names', () => {
    expect(errorOf(() => resolve('ARG X\nFROM $X')).message).toBe('Dockerfile:2: base name ($X) should not be blank');
    expect(errorOf(() => resolve('ENV a=b\nFROM x')).message).toBe('Dockerfile:1: no build stage in current context');
    expect(errorOf(() => resolve('ARG X=1')).message).toBe('Dockerfile:1: dockerfile contains no stages to build');
    expect(errorOf(() => resolve('FROM a AS x\nFROM b AS X')).message).toBe('Dockerfile:2: duplicate stage name "x"');
    expect(errorOf(() => resolve('FROM a\nRUN x\nBOGUS y')).message).toBe('Dockerfile:3: unknown instruction: BOGUS');
    expect(errorOf(() => resolve('ARG X\nFROM ${X:?nobase}')).message).toBe('Dockerfile:2: X: nobase');
  });
});

describe('resolveStages: targets and dependencies', () => {
  const text = [
    'FROM alpine AS deps', // 0
    'RUN --mount=type=cache,target=/c,from=tools true',
    'FROM alpine AS tools', // 1
    'FROM deps AS build', // 2
    'COPY --from=1 /t /t',
    'RUN --mount=type=bind,from=golang:1.22,target=/go true',
    'FROM alpine AS unused', // 3
    'FROM scratch AS final', // 4
    'COPY --from=build /out /out',
    'COPY --from=nginx:latest /etc/nginx /etc/nginx',
    '',
  ].join('\n');

  it('builds only what the target needs, dependencies first', () => {
    const plan = resolve(text);
    expect(plan.target).toBe(4);
    expect(plan.order).toEqual([1, 0, 2, 4]);
    expect(plan.stages[2]?.dependencies).toEqual([0, 1]);
    expect(plan.stages[2]?.images).toEqual(['golang:1.22']);
    expect(plan.stages[4]?.images).toEqual(['nginx:latest']);
    expect(plan.stages[3]?.steps).toBeUndefined();
    expect(plan.stages[2]?.steps).toHaveLength(2);
  });

  it('takes a target by name, case-insensitively', () => {
    expect(resolve(text, { target: 'DEPS' }).order).toEqual([1, 0]);
    expect(resolve(text, { target: 'unused' }).order).toEqual([3]);
  });

  it('refuses an unknown target with a typed error', () => {
    const e = errorOf(() => resolve(text, { target: 'nope' }));
    expect(e).toBeInstanceOf(UnknownTargetError);
    expect(e.message).toBe('Dockerfile: target stage "nope" could not be found');
    expect((e as UnknownTargetError).code).toBe('TSC_DOCKERFILE_TARGET');
    expect((e as UnknownTargetError).hint).toContain('deps, tools, build, unused, final');
  });

  it('refuses a stage index out of range and a cycle', () => {
    expect(errorOf(() => resolve('FROM a\nCOPY --from=5 /a /b')).message).toBe('Dockerfile:2: invalid stage index 5');
    const cycle = errorOf(() => resolve('FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\nCOPY --from=x /a /b'));
    expect(cycle).toBeInstanceOf(DockerfileSyntaxError);
    expect(cycle.message).toMatch(/circular dependency detected on stage: [xy]/);
  });

  it('lists build args that no ARG declares', () => {
    expect(resolve('ARG A\nFROM x\nARG B', { buildArgs: { A: '1', B: '2', C: '3' } }).unusedBuildArgs).toEqual(['C']);
  });
});

describe('resolveStages: ARG and ENV', () => {
  it('keeps global ARGs out of a stage until re-declared', () => {
    const plan = resolve('ARG V=1\nARG W=2\nFROM a\nWORKDIR /$V\nARG V\nWORKDIR /$V$W\n');
    expect(steps(plan).map((s) => (s.kind === 'WORKDIR' ? s.value : s.kind))).toEqual(['/', 'ARG', '/1']);
    expect(plan.stages[0]?.args?.get('V')).toBe('1');
  });

  it('gives an ARG its build arg, else its expanded default, else nothing', () => {
    const text = 'FROM a\nENV P=/p\nARG A B=$P/b C\nENV X=$A:$B:${C:-unset}\n';
    expect(steps(resolve(text))[2]).toMatchObject({ pairs: [{ key: 'X', value: ':/p/b:unset' }] });
    expect(steps(resolve(text, { buildArgs: { A: 'a', B: 'b', C: '' } }))[2]).toMatchObject({
      pairs: [{ key: 'X', value: 'a:b:unset' }],
    });
  });

  it('predefined platform ARGs need a declaration in a stage', () => {
    const plan = resolve('FROM a\nENV X=${TARGETARCH:-none}\nARG TARGETARCH TARGETPLATFORM\nENV Y=$TARGETARCH Z=$TARGETPLATFORM', {
      platform: ARM,
    });
    expect(steps(plan)[0]).toMatchObject({ pairs: [{ value: 'none' }] });
    expect(steps(plan)[2]).toMatchObject({ pairs: [{ value: 'arm' }, { value: 'linux/arm/v7' }] });
  });

  it('expands ENV with the env from before the instruction, both forms', () => {
    const plan = resolve('FROM a\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi $def and "$abc"\n');
    expect(steps(plan)[1]).toMatchObject({
      pairs: [
        { key: 'abc', value: 'bye' },
        { key: 'def', value: 'hello' },
      ],
    });
    expect(steps(plan)[2]).toMatchObject({ pairs: [{ key: 'ghi', value: 'hello and bye' }] });
    expect(plan.stages[0]?.configEnv).toEqual([`PATH=${DEFAULT_PATH}`, 'abc=bye', 'def=hello', 'ghi=hello and bye']);
  });

  it('lets the later of ARG and ENV win, and keeps ARGs out of the config env', () => {
    const plan = resolve('FROM a\nARG V=arg\nENV V=env\nRUN x\nARG W=w\nRUN y\n');
    const runs = plan.stages[0]?.steps?.filter((s) => s.instruction.kind === 'RUN').map((s) => s.env);
    expect(runs?.[0]).toContain('V=env');
    expect(runs?.[1]).toContain('W=w');
    expect(plan.stages[0]?.configEnv).toEqual([`PATH=${DEFAULT_PATH}`, 'V=env']);
  });

  it('starts from the base image env (with a default PATH) or the base stage env', () => {
    const plan = resolve('FROM img AS one\nENV A=1 HOME2=$HOME\nFROM one AS two\nENV B=$A$HOME\nFROM scratch\n', {
      target: 'two',
      baseImageEnv: (ref) => (ref === 'img' ? ['HOME=/root', 'PATH=/bin'] : undefined),
    }).stages;
    expect(plan[0]?.configEnv).toEqual(['HOME=/root', 'PATH=/bin', 'A=1', 'HOME2=/root']);
    expect(plan[1]?.configEnv).toEqual(['HOME=/root', 'PATH=/bin', 'A=1', 'HOME2=/root', 'B=1/root']);
  });

  it('expands LABEL keys and values, WORKDIR, USER, STOPSIGNAL, VOLUME, EXPOSE and COPY', () => {
    const text = [
      'FROM a',
      'ENV N=app D=/srv PORTS="80 443/tcp" SIG=TERM',
      'LABEL "org.$N"="v $D" x=\'$N\'',
      'WORKDIR $D/$N',
      'USER ${N}:${N}',
      'STOPSIGNAL SIG$SIG',
      'VOLUME ["$D/data"]',
      'EXPOSE $PORTS 8080',
      'COPY --chown=$N --chmod=${MODE:-644} --from=$N src/$N.txt "$D/out/"',
      'CMD echo $N',
    ].join('\n');
    const s = steps(resolve(text));
    expect(s[1]).toMatchObject({
      pairs: [
        { key: 'org.app', value: 'v /srv' },
        { key: 'x', value: '$N' },
      ],
    });
    expect(s[2]).toMatchObject({ value: '/srv/app' });
    expect(s[3]).toMatchObject({ value: 'app:app' });
    expect(s[4]).toMatchObject({ value: 'SIGTERM' });
    expect(s[5]).toMatchObject({ values: ['/srv/data'] });
    expect(s[6]).toMatchObject({ values: ['80', '443/tcp', '8080'] });
    expect(s[7]).toMatchObject({ sources: ['src/app.txt'], dest: '/srv/out/', chown: 'app', chmod: '${MODE:-644}', from: '$N' });
    expect(s[8]).toMatchObject({ command: { form: 'shell', command: 'echo $N' } });
  });

  it('expands an unquoted COPY heredoc body, keeping quotes', () => {
    const s = steps(resolve('FROM a\nENV X=1\nCOPY <<EOF <<"RAW" /d/\n"$X" \'${X}\'\nEOF\n$X\nRAW\n'));
    expect(s[1]).toMatchObject({
      heredocSources: [
        { path: 'EOF', content: '"1" \'1\'\n' },
        { path: 'RAW', content: '$X\n' },
      ],
    });
  });

  it('expands RUN --mount values', () => {
    const s = steps(resolve('FROM a\nARG CACHE=/root/.cache\nRUN --mount=type=cache,target=$CACHE,id=c-${CACHE} true'));
    expect(s[1]).toMatchObject({ mounts: [{ type: 'cache', target: '/root/.cache', id: 'c-/root/.cache' }] });
  });

  it('honours the escape directive in expansion', () => {
    const s = steps(resolve('# escape=`\nFROM a\nENV X=1\nWORKDIR c:\\`$X\\$X'));
    expect(s[1]).toMatchObject({ value: 'c:\\$X\\1' });
  });

  it('reports an expansion error at its instruction', () => {
    const e = errorOf(() => resolve('FROM a\n\nWORKDIR ${NOPE:?must be set}'));
    expect(e).toBeInstanceOf(DockerfileSyntaxError);
    expect(e.message).toBe('Dockerfile:3: NOPE: must be set');
    expect(errorOf(() => resolve('FROM a\nENV X="unterminated')).message).toContain('Dockerfile:2: unexpected end of statement');
  });

  it('does not expand stages the target does not need', () => {
    expect(() => resolve('FROM a AS broken\nWORKDIR ${X:?}\nFROM b')).not.toThrow();
  });
});

describe('resolveStages: ONBUILD', () => {
  it("runs a base stage's ONBUILD instructions first in the child", () => {
    const plan = resolve('FROM a AS parent\nONBUILD ENV T=triggered\nONBUILD COPY --from=tools /x /x\nFROM a AS tools\nFROM parent\nRUN x\n');
    expect(steps(plan).map((s) => s.kind)).toEqual(['ENV', 'COPY', 'RUN']);
    expect(steps(plan)[0]).toMatchObject({ startLine: 5 });
    expect(plan.order).toEqual([0, 1, 2]);
  });

  it("takes a base image's triggers and places their errors at FROM", () => {
    const opts = { onbuildTriggers: (ref: string) => (ref === 'img' ? ['RUN echo from image', 'WORKDIR /w'] : undefined) };
    expect(steps(resolve('FROM img\nUSER u', opts)).map((s) => s.kind)).toEqual(['RUN', 'WORKDIR', 'USER']);
    const e = errorOf(() => resolve('FROM x\n\nFROM img', { onbuildTriggers: () => ['BOGUS x'] }));
    expect(e.message).toBe('Dockerfile:1: ONBUILD trigger: unknown instruction: BOGUS');
  });
});

describe('runCommandLine', () => {
  const run = (text: string): RunInstruction => steps(resolve(`FROM a\n${text}`))[0] as RunInstruction;

  it('exec and shell forms', () => {
    expect(runCommandLine(run('RUN ["a", "b"]')).args).toEqual(['a', 'b']);
    expect(runCommandLine(run('RUN echo hi'), ['/bin/bash', '-c']).args).toEqual(['/bin/bash', '-c', 'echo hi']);
  });

  it('a lone heredoc runs its body through the shell, or as a #! script', () => {
    expect(runCommandLine(run('RUN <<-EOF\n\techo a\n\techo b\n\tEOF')).args).toEqual(['/bin/sh', '-c', 'echo a\necho b\n']);
    expect(runCommandLine(run('RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF'))).toEqual({
      args: ['/dev/pipes/EOF'],
      script: { path: '/dev/pipes/EOF', content: '#!/usr/bin/env python3\nprint(1)\n', mode: 0o755 },
    });
  });

  it('other heredocs go to the shell with their bodies and delimiters', () => {
    expect(runCommandLine(run('RUN cat <<A > /a && cat <<B > /b\n1\nA\n2\nB')).args).toEqual([
      '/bin/sh',
      '-c',
      'cat <<A > /a && cat <<B > /b\n1\nA\n2\nB',
    ]);
  });
});

describe('platforms', () => {
  it('formats and names the predefined ARGs', () => {
    expect(formatPlatform(ARM)).toBe('linux/arm/v7');
    expect(Object.fromEntries(platformArgs(AMD64, ARM))).toEqual({
      BUILDPLATFORM: 'linux/arm/v7',
      BUILDOS: 'linux',
      BUILDARCH: 'arm',
      BUILDVARIANT: 'v7',
      TARGETPLATFORM: 'linux/amd64',
      TARGETOS: 'linux',
      TARGETARCH: 'amd64',
      TARGETVARIANT: '',
    });
    expect(hostPlatform().os).toBe('linux');
  });
});

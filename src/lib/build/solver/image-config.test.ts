import { describe, expect, test } from '@jest/globals';
import { resolveDockerfile } from '../dockerfile/stages.js';
import { applyToConfig, createdBy, exposedPorts, isFilesystemStep, shellOf, stageConfig, workdirAfter } from './image-config.js';

/** The config of the last stage after its instructions, as builder.ts applies them. */
function configOf(text: string, base: Record<string, unknown> = {}): ReturnType<typeof stageConfig> {
  const plan = resolveDockerfile(text, 'Dockerfile');
  const stage = plan.stages[plan.target]!;
  const state = stageConfig(base, []);
  for (const s of stage.steps ?? []) applyToConfig(state, s.instruction, s.env);
  return state;
}

describe('image config', () => {
  test('CMD and ENTRYPOINT: shell form through SHELL, ENTRYPOINT clears an inherited Cmd but not one set here', () => {
    expect(configOf('FROM x\nCMD echo hi\n').config.Cmd).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(configOf('FROM x\nSHELL ["/bin/bash", "-ec"]\nENTRYPOINT run me\n').config.Entrypoint).toEqual(['/bin/bash', '-ec', 'run me']);
    expect(configOf('FROM x\nENTRYPOINT ["a"]\n', { Cmd: ['inherited'] }).config.Cmd).toBeNull();
    expect(configOf('FROM x\nCMD ["c"]\nENTRYPOINT ["a"]\n', { Cmd: ['inherited'] }).config.Cmd).toEqual(['c']);
  });

  test('EXPOSE ranges and protocols, VOLUME, LABEL, USER, STOPSIGNAL, WORKDIR joined, ONBUILD appended, MAINTAINER', () => {
    const s = configOf(
      'FROM x\nEXPOSE 80 53/udp 8000-8002\nVOLUME ["/a", "/b"]\nLABEL k=v "x y"=z\nUSER app:grp\nSTOPSIGNAL SIGINT\nWORKDIR /srv\nWORKDIR app\nONBUILD RUN true\nMAINTAINER me\n',
    );
    expect(Object.keys(s.config.ExposedPorts ?? {})).toEqual(['80/tcp', '53/udp', '8000/tcp', '8001/tcp', '8002/tcp']);
    expect(s.config.Volumes).toEqual({ '/a': {}, '/b': {} });
    expect(s.config.Labels).toEqual({ k: 'v', 'x y': 'z' });
    expect(s.config.User).toBe('app:grp');
    expect(s.config.StopSignal).toBe('SIGINT');
    expect(s.config.WorkingDir).toBe('/srv/app');
    expect(s.config.OnBuild).toEqual(['RUN true']);
    expect(s.author).toBe('me');
  });

  test('HEALTHCHECK keeps only the durations given, in ns; NONE', () => {
    expect(configOf('FROM x\nHEALTHCHECK --interval=5s --retries=3 CMD curl -f localhost\n').config.Healthcheck).toEqual({
      Test: ['CMD-SHELL', 'curl -f localhost'],
      Interval: 5e9,
      Retries: 3,
    });
    expect(configOf('FROM x\nHEALTHCHECK NONE\n').config.Healthcheck).toEqual({ Test: ['NONE'] });
  });

  test('a stage starts from its base config without OnBuild', () => {
    const s = stageConfig({ OnBuild: ['RUN x'], Cmd: ['a'], Env: ['A=1'] }, ['A=1', 'PATH=/bin']);
    expect(s.config).toEqual({ Cmd: ['a'], Env: ['A=1', 'PATH=/bin'] });
    expect(shellOf(s.config)).toEqual(['/bin/sh', '-c']);
  });

  test('history lines as BuildKit writes them; filesystem steps', () => {
    const plan = resolveDockerfile('FROM x\nRUN apt-get update\nCOPY --chown=1:1 a b /dst/\nENV A=1\nARG X\nEXPOSE 80\n', 'Dockerfile');
    const steps = plan.stages[0]!.steps!.map((s) => s.instruction);
    expect(steps.map((i) => createdBy(i, ['/bin/sh', '-c']))).toEqual([
      'RUN /bin/sh -c apt-get update',
      'COPY --chown=1:1 a b /dst/',
      'ENV A=1',
      undefined,
      'EXPOSE map[80/tcp:{}]',
    ]);
    expect(steps.map(isFilesystemStep)).toEqual([true, true, false, false, false]);
  });

  test('helpers', () => {
    expect(workdirAfter(undefined, 'a')).toBe('/a');
    expect(workdirAfter('/x', '../y')).toBe('/y');
    expect(() => exposedPorts(['http'])).toThrow(/invalid containerPort/);
  });
});

import { describe, expect, it } from '@jest/globals';

import { DockerfileSyntaxError } from './errors.js';
import { parseGoDuration } from './flags.js';
import { parseInstructions, type Instruction } from './instructions.js';
import { csvFields, parseMount } from './mounts.js';
import { parseDockerfile } from './parser.js';

const insts = (text: string): Instruction[] => parseInstructions(parseDockerfile(text, 'Dockerfile'));
const one = (line: string): Instruction => {
  const i = insts(line)[0];
  if (!i) throw new Error('none');
  return i;
};
const errorOf = (text: string): string => {
  try {
    insts(text);
  } catch (e) {
    if (e instanceof DockerfileSyntaxError) return e.message;
    throw e;
  }
  throw new Error('no error');
};

describe('parseInstruction', () => {
  it('FROM with AS and --platform', () => {
    expect(one('FROM --platform=$BUILDPLATFORM golang:1.22 As Build')).toMatchObject({
      kind: 'FROM',
      image: 'golang:1.22',
      stageName: 'build',
      platform: '$BUILDPLATFORM',
    });
    expect(errorOf('FROM a b')).toBe('Dockerfile:1: FROM requires either one or three arguments');
    expect(errorOf('FROM a AS 1x')).toContain('invalid name for build stage');
    expect(errorOf('FROM --plat=x a')).toBe('Dockerfile:1: unknown flag: plat');
  });

  it('ARG with and without defaults', () => {
    expect(one('ARG A B=2 C="x y"')).toMatchObject({
      args: [
        { key: 'A', value: undefined },
        { key: 'B', value: '2' },
        { key: 'C', value: '"x y"' },
      ],
    });
    expect(errorOf('ARG')).toBe('Dockerfile:1: ARG requires at least one argument');
    expect(errorOf('ARG =x')).toBe('Dockerfile:1: ARG names can not be blank');
  });

  it('ENV and LABEL in both forms', () => {
    expect(one('ENV a=b c="d e"')).toMatchObject({
      kind: 'ENV',
      legacy: false,
      pairs: [
        { key: 'a', value: 'b' },
        { key: 'c', value: '"d e"' },
      ],
    });
    expect(one('ENV a b  c')).toMatchObject({ legacy: true, pairs: [{ key: 'a', value: 'b  c' }] });
    expect(one('LABEL "com.x"="y z"')).toMatchObject({ kind: 'LABEL', pairs: [{ key: '"com.x"', value: '"y z"' }] });
    expect(errorOf('ENV a')).toBe('Dockerfile:1: ENV must have two arguments');
    expect(errorOf('ENV a=b c')).toBe('Dockerfile:1: Syntax error - can\'t find = in "c". Must be of the form: name=value');
    expect(errorOf('LABEL =x')).toBe('Dockerfile:1: LABEL names can not be blank');
  });

  it('RUN forms, mounts, network', () => {
    expect(one('RUN echo $HOME')).toMatchObject({ command: { form: 'shell', command: 'echo $HOME' }, mounts: [] });
    expect(one('RUN ["echo", "hi"]')).toMatchObject({ command: { form: 'exec', args: ['echo', 'hi'] } });
    const run = one('RUN --network=none --mount=type=cache,target=/root/.cache,id=pip,sharing=locked --mount=type=secret,id=tok x');
    expect(run).toMatchObject({
      network: 'none',
      mounts: [
        { type: 'cache', id: 'pip', target: '/root/.cache', sharing: 'locked', readOnly: false },
        { type: 'secret', id: 'tok', target: '/run/secrets/tok', required: false },
      ],
    });
    expect(errorOf('RUN --network=bridge x')).toBe('Dockerfile:1: unsupported network mode "bridge"');
    expect(errorOf('RUN --mount=type=nfs,target=/x x')).toBe('Dockerfile:1: unsupported mount type "nfs"');
    expect(errorOf('RUN --mount x')).toBe('Dockerfile:1: missing a value on flag: mount');
  });

  it('COPY and ADD with flags, JSON form and heredoc sources', () => {
    expect(one('COPY --from=build --chown=1:2 --chmod=644 --link --exclude=*.md --exclude=x a b /dst/')).toMatchObject({
      kind: 'COPY',
      sources: ['a', 'b'],
      dest: '/dst/',
      from: 'build',
      chown: '1:2',
      chmod: '644',
      link: true,
      exclude: ['*.md', 'x'],
    });
    expect(one('ADD ["a b", "/c"]')).toMatchObject({ kind: 'ADD', sources: ['a b'], dest: '/c' });
    expect(one('ADD --link=false --checksum=sha256:x https://e/x /x')).toMatchObject({ link: false, checksum: 'sha256:x' });
    expect(one('COPY <<-EOF a /x/\n\thello $X\n\tEOF\n')).toMatchObject({
      sources: ['a'],
      heredocSources: [{ path: 'EOF', content: 'hello $X\n', expand: true }],
    });
    expect(errorOf('COPY a')).toBe('Dockerfile:1: COPY requires at least two arguments, but only 1 provided');
    expect(errorOf('COPY a <<EOF\nx\nEOF')).toBe('Dockerfile:1: COPY cannot accept a heredoc as a destination');
    expect(errorOf('COPY --from=a --from=b x y')).toBe('Dockerfile:1: duplicate flag specified: from');
    expect(errorOf('ADD --from=a x y')).toBe('Dockerfile:1: unknown flag: from');
    expect(errorOf('COPY --link=maybe a b')).toBe('Dockerfile:1: expecting boolean value for flag link, not: maybe');
  });

  it('single-value, list and command instructions', () => {
    expect(one('WORKDIR /a b')).toMatchObject({ kind: 'WORKDIR', value: '/a b' });
    expect(one('USER app:app')).toMatchObject({ kind: 'USER', value: 'app:app' });
    expect(one('STOPSIGNAL SIGTERM')).toMatchObject({ value: 'SIGTERM' });
    expect(one('MAINTAINER me <me@x>')).toMatchObject({ kind: 'MAINTAINER', value: 'me <me@x>' });
    expect(one('EXPOSE 80 443/tcp')).toMatchObject({ values: ['80', '443/tcp'] });
    expect(one('VOLUME ["/a", "/b"]')).toMatchObject({ values: ['/a', '/b'] });
    expect(one('VOLUME /a /b')).toMatchObject({ values: ['/a', '/b'] });
    expect(one('CMD echo hi')).toMatchObject({ kind: 'CMD', command: { form: 'shell', command: 'echo hi' } });
    expect(one('ENTRYPOINT ["/e"]')).toMatchObject({ kind: 'ENTRYPOINT', command: { form: 'exec', args: ['/e'] } });
    expect(one('SHELL ["/bin/bash", "-c"]')).toMatchObject({ shell: ['/bin/bash', '-c'] });
    expect(errorOf('WORKDIR')).toBe('Dockerfile:1: WORKDIR requires exactly one argument');
    expect(errorOf('EXPOSE')).toBe('Dockerfile:1: EXPOSE requires at least one argument');
    expect(errorOf('SHELL /bin/sh')).toBe('Dockerfile:1: SHELL requires the arguments to be in JSON form');
    expect(errorOf('USER --x a')).toBe('Dockerfile:1: unknown flag: x');
  });

  it('HEALTHCHECK', () => {
    expect(one('HEALTHCHECK NONE')).toMatchObject({ test: ['NONE'] });
    expect(one('HEALTHCHECK --interval=5s --timeout=1m30s --start-period=0 --retries=3 CMD curl -f http://x/')).toMatchObject({
      test: ['CMD-SHELL', 'curl -f http://x/'],
      interval: 5e9,
      timeout: 90e9,
      startPeriod: 0,
      retries: 3,
    });
    expect(one('HEALTHCHECK --start-interval=500ms cmd ["true"]')).toMatchObject({ test: ['CMD', 'true'], startInterval: 5e8 });
    expect(errorOf('HEALTHCHECK NONE x')).toBe('Dockerfile:1: HEALTHCHECK NONE takes no arguments');
    expect(errorOf('HEALTHCHECK RUN x')).toBe('Dockerfile:1: Unknown type "RUN" in HEALTHCHECK (try CMD)');
    expect(errorOf('HEALTHCHECK --interval=1us CMD x')).toBe('Dockerfile:1: Interval "interval" cannot be less than 1ms');
    expect(errorOf('HEALTHCHECK --retries=-1 CMD x')).toBe('Dockerfile:1: --retries cannot be negative (-1)');
    expect(errorOf('HEALTHCHECK --interval=5 CMD x')).toContain('missing unit');
  });

  it('ONBUILD keeps its trigger as text', () => {
    expect(one('onbuild run echo hi')).toMatchObject({ kind: 'ONBUILD', expression: 'run echo hi' });
    expect(one('ONBUILD COPY <<EOF /x\nhi\nEOF\n')).toMatchObject({ expression: 'COPY <<EOF /x\nhi\nEOF' });
    expect(errorOf('ONBUILD ONBUILD RUN x')).toBe("Dockerfile:1: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    expect(errorOf('ONBUILD FROM x')).toBe("Dockerfile:1: FROM isn't allowed as an ONBUILD trigger");
  });

  it('accepts stage names with digits, dashes, underscores and dots', () => {
    expect(one('FROM a AS my-stage_1.x')).toMatchObject({ stageName: 'my-stage_1.x' });
    expect(errorOf('FROM a AS my$stage')).toContain('invalid name for build stage');
  });

  it('splits COPY arguments on whitespace before expansion, as BuildKit (quotes do not group)', () => {
    expect(one('COPY "a b" c')).toMatchObject({ sources: ['"a', 'b"'], dest: 'c' });
  });

  it('places the error of a multi-line instruction at its first line', () => {
    const text = 'FROM a\nRUN echo \\\n  hi\nCOPY \\\n  --bogus=1 \\\n  a b\n';
    expect(errorOf(text)).toBe('Dockerfile:4: unknown flag: bogus');
    const e = (() => {
      try {
        insts(text);
      } catch (err) {
        return err as DockerfileSyntaxError;
      }
      return undefined;
    })();
    expect([e?.line, e?.endLine]).toEqual([4, 6]);
    expect(errorOf('FROM a\nRUN <<EOF\nx\nEOF\nHEALTHCHECK --retries=x CMD y')).toBe('Dockerfile:5: invalid value for retries: x');
  });

  it('refuses an unknown instruction, naming it and its line', () => {
    expect(errorOf('FROM a\n\nRUNN echo')).toBe('Dockerfile:3: unknown instruction: RUNN');
    const e = (() => {
      try {
        insts('FROM a\nFOO');
      } catch (err) {
        return err as DockerfileSyntaxError;
      }
      return undefined;
    })();
    expect(e?.code).toBe('TSC_DOCKERFILE_SYNTAX');
    expect([e?.file, e?.line]).toEqual(['Dockerfile', 2]);
  });
});

describe('parseMount', () => {
  it('defaults', () => {
    expect(parseMount('target=/x')).toEqual({ type: 'bind', target: '/x', from: '', source: '', readOnly: true });
    expect(parseMount('type=bind,from=build,source=/out,target=/x,rw')).toMatchObject({ from: 'build', readOnly: false });
    expect(parseMount('type=cache,target=/c')).toMatchObject({ id: '/c', sharing: 'shared', readOnly: false });
    expect(parseMount('type=cache,target=/c,mode=0700,uid=1000,gid=1000,ro')).toMatchObject({ mode: 0o700, uid: 1000, gid: 1000, readOnly: true });
    expect(parseMount('type=tmpfs,dst=/t,size=1000')).toEqual({ type: 'tmpfs', target: '/t', size: 1000 });
    expect(parseMount('type=secret,target=/etc/tok,required')).toMatchObject({ id: 'tok', target: '/etc/tok', required: true });
    expect(parseMount('type=secret,id=a,env=A')).toMatchObject({ id: 'a', target: '', env: 'A' });
    expect(parseMount('TYPE=Cache,Target=/c')).toMatchObject({ type: 'cache' });
  });

  it('expands values', () => {
    expect(parseMount('type=cache,target=$D', (w) => w.replace('$D', '/d'))).toMatchObject({ target: '/d', id: '/d' });
  });

  it.each([
    ['type=bind,target=/x,mode=0600', 'mode not allowed for "bind" type mounts'],
    ['type=bind,target=/x,sharing=locked', 'invalid cache sharing set for bind mount'],
    ['type=cache,target=/x,sharing=nope', 'unsupported sharing value "nope"'],
    ['type=secret', 'invalid secret mount. one of source, target required'],
    ['type=secret,id=a,from=b', 'secret mount should not have a from'],
    ['type=secret,id=a,source=b', "both source and id can't be set"],
    ['type=cache', 'mount type cache requires a target'],
    ['type=bind,target=/x,required', "unexpected key 'required' for mount type 'bind'"],
    ['type=bind,target=/x,foo=1', "unexpected key 'foo' in 'foo=1'"],
    ['type=bind,foo', "invalid field 'foo' must be a key=value pair"],
    ['type=cache,target=/x,uid=x', 'invalid value for uid: x'],
  ])('%s fails: %s', (spec, message) => {
    expect(() => parseMount(spec)).toThrow(message);
  });

  it('csvFields', () => {
    expect(csvFields('a,"b,c",d')).toEqual(['a', 'b,c', 'd']);
    expect(csvFields('"x""y"')).toEqual(['x"y']);
    expect(() => csvFields('"x')).toThrow();
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['0', 0],
    ['1s', 1e9],
    ['1.5s', 1.5e9],
    ['1h2m3s', 3723e9],
    ['300ms', 3e8],
    ['10us', 1e4],
    ['-1s', -1e9],
  ])('%s = %d ns', (s, n) => expect(parseGoDuration(s)).toBe(n));
  it.each(['', '1', 's', '1d', '1s2'])('%s fails', (s) => expect(() => parseGoDuration(s)).toThrow());
});

describe('words that cannot be lexed (found by test/fuzz/syntax.test.ts)', () => {
  it("an unmatched quote in a heredoc marker is the line's syntax error", () => {
    expect(errorOf("FROM busybox\nCOPY <<'EOF /x\nhi\n")).toMatch(
      /^Dockerfile:2: unexpected end of statement while looking for matching single-quote/,
    );
  });
});

import { describe, expect, test } from '@jest/globals';
import { lowerHeredocs, needsLowering } from './buildkit-heredoc.js';

const lower = (text: string, mounts = true, buildArgs?: Record<string, string>) => lowerHeredocs(text, { mounts, buildArgs });

describe('lowerHeredocs', () => {
  test('nothing to rewrite: no heredoc, a # syntax directive, a BUILDKIT_SYNTAX build arg', () => {
    expect(lower('FROM busybox\nRUN echo hi\n')).toBeUndefined();
    expect(lower('# syntax=docker/dockerfile:1.4\nFROM busybox\nRUN <<EOF\necho hi\nEOF\n')).toBeUndefined();
    expect(lower('FROM busybox\nRUN <<EOF\necho hi\nEOF\n', true, { BUILDKIT_SYNTAX: 'docker/dockerfile:1.4' })).toBeUndefined();
    expect(needsLowering('FROM busybox\nRUN cat <<EOF\n')).toBe(false); // unterminated: the engine says so
  });

  test('RUN with one heredoc: its body run by the shell, flags kept, other lines untouched', () => {
    const r = lower('FROM busybox\n# a comment\nRUN --mount=type=cache,target=/c <<EOF\necho one\necho two\nEOF\nCMD ["sh"]\n');
    expect(r?.dockerfile).toBe('FROM busybox\n# a comment\nRUN --mount=type=cache,target=/c ["/bin/sh","-c","echo one\\necho two\\n"]\nCMD ["sh"]\n');
    expect(r?.files).toEqual([]);
    expect(r?.rewritten).toBe(1);
  });

  test("RUN follows the stage's SHELL, inherited by stages built FROM it, reset for others", () => {
    const text = [
      'FROM busybox AS base',
      'SHELL ["/bin/ash", "-eo", "pipefail", "-c"]',
      'RUN <<EOF',
      'a',
      'EOF',
      'FROM base',
      'RUN <<EOF',
      'b',
      'EOF',
      'FROM busybox',
      'RUN <<EOF',
      'c',
      'EOF',
      '',
    ].join('\n');
    const lines = lower(text)?.dockerfile.split('\n') ?? [];
    expect(lines.filter((l) => l.startsWith('RUN'))).toEqual([
      'RUN ["/bin/ash","-eo","pipefail","-c","a\\n"]',
      'RUN ["/bin/ash","-eo","pipefail","-c","b\\n"]',
      'RUN ["/bin/sh","-c","c\\n"]',
    ]);
  });

  test('RUN with heredocs inside its command: the line, each body and its delimiter go to the shell (as BuildKit)', () => {
    const r = lower('FROM busybox\nRUN cat <<A > /a && cat <<-B > /b\nx\nA\n\ty\n\tB\n');
    expect(r?.dockerfile).toBe('FROM busybox\nRUN ["/bin/sh","-c","cat <<A > /a && cat <<-B > /b\\nx\\nA\\n\\ty\\nB"]\n');
  });

  test('a #! RUN heredoc: an executable file in the context, bind-mounted at /dev/pipes; left alone without mounts', () => {
    const text = 'FROM python:3.11-slim\nRUN <<EOF\n#!/usr/bin/env python3\nprint("hi")\nEOF\n';
    const r = lower(text);
    expect(r?.dockerfile).toBe(
      'FROM python:3.11-slim\nRUN --mount=type=bind,source=.tscompose-heredocs/1/EOF,target=/dev/pipes/EOF ["/dev/pipes/EOF"]\n',
    );
    expect(r?.files).toEqual([{ path: '.tscompose-heredocs/1/EOF', content: '#!/usr/bin/env python3\nprint("hi")\n', mode: 0o755 }]);
    expect(lower(text, false)).toBeUndefined();
  });

  test('COPY heredocs: files in the context named after the delimiter, expanded unless quoted, --chmod kept', () => {
    const text = [
      'ARG WHO=global',
      'FROM busybox',
      'ARG WHO',
      'ENV GREETING=hello',
      'COPY --chmod=600 <<EOF <<"RAW" app.txt /dir/',
      '$GREETING ${WHO}',
      'EOF',
      '$GREETING',
      'RAW',
      'COPY <<-EOF /etc/motd',
      '\tindented',
      '\tEOF',
      '',
    ].join('\n');
    const r = lower(text, true, { WHO: 'arg' });
    expect(r?.dockerfile.split('\n').slice(4)).toEqual([
      'COPY --chmod=600 .tscompose-heredocs/1/EOF .tscompose-heredocs/2/RAW app.txt /dir/',
      'COPY .tscompose-heredocs/3/EOF /etc/motd',
      '',
    ]);
    expect(r?.files).toEqual([
      { path: '.tscompose-heredocs/1/EOF', content: 'hello arg\n', mode: 0o644 },
      { path: '.tscompose-heredocs/2/RAW', content: '$GREETING\n', mode: 0o644 },
      { path: '.tscompose-heredocs/3/EOF', content: 'indented\n', mode: 0o644 },
    ]);
  });

  test('an ARG declared after the COPY is not seen by it; an undeclared global ARG is not either', () => {
    const r = lower('ARG G=g\nFROM busybox\nCOPY <<EOF /x\n[$A][$G]\nEOF\nARG A=a\n');
    expect(r?.files[0]?.content).toBe('[][]\n');
  });

  test('a Dockerfile the parser refuses is left to the engine', () => {
    expect(lower('FROM busybox\nCOPY <<EOF\nx\nEOF\n')).toBeUndefined();
  });
});

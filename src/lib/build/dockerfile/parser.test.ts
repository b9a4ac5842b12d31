import { describe, expect, it } from '@jest/globals';

import { DockerfileSyntaxError } from './errors.js';
import { chompHeredoc, extractFlags, parseDockerfile, parseHeredocWord, parseJsonArray, parseWords, type Node } from './parser.js';

const parse = (text: string): readonly Node[] => parseDockerfile(text, 'Dockerfile').nodes;
const one = (text: string): Node => {
  const n = parse(text)[0];
  if (!n) throw new Error('no node');
  return n;
};
function syntaxError(fn: () => unknown): DockerfileSyntaxError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DockerfileSyntaxError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('parseDockerfile: lines', () => {
  it('gives each instruction its keyword, flags, arguments and lines', () => {
    const nodes = parse('FROM alpine AS build\n\nrun --mount=type=cache,target=/x echo hi\nCopy --from=build /a /b\n');
    expect(nodes.map((n) => [n.keyword, n.name, n.startLine, n.endLine])).toEqual([
      ['from', 'FROM', 1, 1],
      ['run', 'run', 3, 3],
      ['copy', 'Copy', 4, 4],
    ]);
    expect(nodes[1]?.flags).toEqual(['--mount=type=cache,target=/x']);
    expect(nodes[1]?.rest).toBe('echo hi');
    expect(nodes[2]?.flags).toEqual(['--from=build']);
    expect(nodes[0]?.file).toBe('Dockerfile');
  });

  it('joins continuation lines, skipping comments and blank lines inside them', () => {
    const df = parseDockerfile('FROM a\nRUN echo a \\\n  # a comment\n\n    b \\  \n  c\nUSER x\n', 'f');
    const run = df.nodes[1];
    expect(run?.rest).toBe('echo a     b   c');
    expect([run?.startLine, run?.endLine]).toEqual([2, 6]);
    expect(df.nodes[2]?.startLine).toBe(7);
    expect(df.warnings).toEqual([{ line: 2, message: expect.stringContaining('Empty continuation line') }]);
  });

  it('ends a continuation at the end of the file', () => {
    expect(one('RUN echo \\').rest).toBe('echo');
  });

  it('ignores comments, leading whitespace, CRLF and a byte-order mark', () => {
    const nodes = parse('\uFEFF# c\r\n   FROM a\r\n  # another\r\nRUN x\r\n');
    expect(nodes.map((n) => [n.keyword, n.rest, n.startLine])).toEqual([
      ['from', 'a', 2],
      ['run', 'x', 4],
    ]);
  });

  it('keeps a `#` that is not at the start of a line', () => {
    expect(one('RUN echo # not a comment').rest).toBe('echo # not a comment');
  });

  it('refuses a file with no instructions', () => {
    expect(syntaxError(() => parseDockerfile('# just a comment\n\n', 'x/Dockerfile')).message).toBe('x/Dockerfile:2: file with no instructions');
  });

  it('parses an unknown instruction (instructions.ts refuses it)', () => {
    expect(one('FOO bar').keyword).toBe('foo');
  });
});

describe('parseDockerfile: directives', () => {
  it('takes escape, syntax and check at the top', () => {
    const df = parseDockerfile('# syntax=docker/dockerfile:1\n#ESCAPE = `\n# check=skip=all\nFROM a\nRUN a `\n  b\n');
    expect(df.escape).toBe('`');
    expect(df.syntax).toBe('docker/dockerfile:1');
    expect(df.directives.map((d) => [d.name, d.value, d.line])).toEqual([
      ['syntax', 'docker/dockerfile:1', 1],
      ['escape', '`', 2],
      ['check', 'skip=all', 3],
    ]);
    expect(df.nodes[1]?.rest).toBe('a   b');
  });

  it('keeps a backslash literal with the backtick escape', () => {
    const df = parseDockerfile('# escape=`\nFROM a\nCOPY c:\\ d:\\\n');
    expect(df.nodes[1]?.rest).toBe('c:\\ d:\\');
  });

  it('stops looking for directives after the first other line', () => {
    for (const text of ['# a comment\n# escape=`\nFROM a', '\n# escape=`\nFROM a', '# unknown=x\n# escape=`\nFROM a']) {
      expect(parseDockerfile(text).escape).toBe('\\');
    }
    expect(parseDockerfile('FROM a\n# escape=`\n').escape).toBe('\\');
  });

  it('refuses a bad escape and a repeated directive, at their line', () => {
    expect(syntaxError(() => parseDockerfile('# escape=x\nFROM a', 'D')).message).toBe("D:1: invalid escape token 'x' does not match ` or \\");
    expect(syntaxError(() => parseDockerfile('# escape=\\\n# escape=`\nFROM a', 'D')).message).toBe(
      'D:2: only one escape parser directive can be used',
    );
  });
});

describe('parseDockerfile: forms', () => {
  it('reads the JSON exec form', () => {
    expect(one('CMD ["a", "b c"]').json).toEqual(['a', 'b c']);
    expect(one('ENTRYPOINT []').json).toEqual([]);
    expect(one('COPY ["a b", "c"]').json).toEqual(['a b', 'c']);
  });

  it('falls back to the shell form on invalid JSON', () => {
    expect(one("CMD ['a']").json).toBeUndefined();
    expect(one('CMD [a, b]').json).toBeUndefined();
    expect(one('RUN [ "a" ] extra').json).toBeUndefined();
    expect(one('USER ["a"]').json).toBeUndefined(); // USER has no exec form
  });

  it('refuses a JSON array of non-strings', () => {
    expect(syntaxError(() => parse('FROM a\nCMD ["a", 1]')).message).toBe(
      'Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only',
    );
  });

  it('parses an ONBUILD trigger', () => {
    const n = one('ONBUILD RUN --network=none echo hi');
    expect(n.trigger?.keyword).toBe('run');
    expect(n.trigger?.flags).toEqual(['--network=none']);
    expect(n.trigger?.rest).toBe('echo hi');
  });
});

describe('parseDockerfile: heredocs', () => {
  it('reads a heredoc body and extends the node to its end', () => {
    const nodes = parse('FROM a\nRUN <<EOF\necho hi\n  echo there\nEOF\nUSER x\n');
    expect(nodes[1]?.heredocs).toEqual([{ name: 'EOF', content: 'echo hi\n  echo there\n', expand: true, chomp: false, fd: 0 }]);
    expect([nodes[1]?.startLine, nodes[1]?.endLine]).toEqual([2, 5]);
    expect(nodes[2]?.startLine).toBe(6);
  });

  it('reads several heredocs of one line in order, with quoted and chomped delimiters', () => {
    const n = one('COPY <<a <<-"b" 3<<\'c\' /dest/\nx\na\n\ty\n\tb\nz\nc\n');
    expect(n.heredocs).toEqual([
      { name: 'a', content: 'x\n', expand: true, chomp: false, fd: 0 },
      { name: 'b', content: '\ty\n', expand: false, chomp: true, fd: 0 },
      { name: 'c', content: 'z\n', expand: false, chomp: false, fd: 3 },
    ]);
    expect(n.endLine).toBe(7);
  });

  it('keeps comment-like and blank lines of a body', () => {
    expect(one('RUN <<EOF\n# kept\n\n  \\\nEOF').heredocs[0]?.content).toBe('# kept\n\n  \\\n');
  });

  it('takes heredocs only where BuildKit does', () => {
    expect(one('CMD <<EOF').heredocs).toEqual([]);
    expect(one('RUN ["cat", "<<EOF"]').heredocs).toEqual([]);
    expect(one('RUN cat<<EOF').heredocs).toEqual([]); // not a word of its own
    expect(one('RUN echo "<<EOF"').heredocs).toEqual([]);
    expect(parse('ONBUILD RUN <<EOF\nhi\nEOF\n')[0]?.heredocs.map((h) => h.name)).toEqual(['EOF']);
  });

  it('takes a heredoc after a continuation', () => {
    const n = one('RUN cat \\\n  <<EOF > /x\nhello\nEOF\n');
    expect(n.heredocs[0]?.content).toBe('hello\n');
    expect([n.startLine, n.endLine]).toEqual([1, 4]);
  });

  it('refuses an unterminated heredoc, naming the instruction', () => {
    expect(syntaxError(() => parse('FROM a\nRUN <<EOF\necho\n')).message).toBe('Dockerfile:2: unterminated heredoc');
  });
});

describe('helpers', () => {
  it('extractFlags stops at the first word without --', () => {
    expect(extractFlags('--a=1 --b "--c" x --d')).toEqual({ flags: ['--a=1', '--b'], rest: '"--c" x --d' });
    expect(extractFlags('--a="x y" z')).toEqual({ flags: ['--a=x y'], rest: 'z' });
    expect(extractFlags('--a=\\"q z')).toEqual({ flags: ['--a="q'], rest: 'z' });
    expect(extractFlags('-- --x y')).toEqual({ flags: [], rest: ' --x y' });
    expect(extractFlags('--a --b')).toEqual({ flags: ['--a', '--b'], rest: '' });
  });

  it('parseWords keeps quotes and escapes', () => {
    expect(parseWords('a=1 b="x y" c=\'q r\' d=e\\ f', '\\')).toEqual(['a=1', 'b="x y"', "c='q r'", 'd=e\\ f']);
    expect(parseWords('  ', '\\')).toEqual([]);
    expect(parseWords('a=""', '\\')).toEqual(['a=""']);
  });

  it('parseJsonArray', () => {
    expect(parseJsonArray(' ["a"]')).toEqual(['a']);
    expect(parseJsonArray('a')).toBeUndefined();
    expect(parseJsonArray('{"a":1}')).toBeUndefined();
    expect(() => parseJsonArray('[null]')).toThrow('strings only');
  });

  it('parseHeredocWord', () => {
    expect(parseHeredocWord('<<EOF')).toEqual({ name: 'EOF', expand: true, chomp: false, fd: 0 });
    expect(parseHeredocWord('<<E"O"F')).toEqual({ name: 'EOF', expand: false, chomp: false, fd: 0 });
    expect(parseHeredocWord("<<-'X'")).toEqual({ name: 'X', expand: false, chomp: true, fd: 0 });
    expect(parseHeredocWord('<<')).toBeUndefined();
    expect(parseHeredocWord('a<<EOF')).toBeUndefined();
    expect(parseHeredocWord('<<a<b')).toBeUndefined();
  });

  it('chompHeredoc removes leading tabs of each line only', () => {
    expect(chompHeredoc('\t\ta\n \tb\n\tc\n')).toBe('a\n \tb\nc\n');
  });
});

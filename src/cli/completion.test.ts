import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bashScript, completionScript, fishScript, programModel, zshScript } from './completion.js';
import type { CommandContext } from './context.js';
import { buildProgram } from './program.js';

const program = buildProgram(() => ({}) as CommandContext);
const model = programModel(program);
const dir = mkdtempSync(join(tmpdir(), 'tsc-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0']).status === 0;

/** A stand-in `tscompose` that answers `config --services` and records its arguments. */
const fakeCli = join(dir, 'tscompose');
writeFileSync(fakeCli, `#!/bin/sh\necho "$@" > ${join(dir, 'args')}\nprintf 'web\\ndb\\n'\n`);
chmodSync(fakeCli, 0o755);

/** What the bash script completes for the words (the last one being completed). */
function bashComplete(words: string[]): string[] {
  const script = join(dir, 'tscompose.bash');
  writeFileSync(script, bashScript(model));
  const all = [fakeCli, ...words];
  const quoted = all.map((w) => `'${w}'`).join(' ');
  const r = spawnSync(
    'bash',
    ['-c', `source ${script}; COMP_WORDS=(${quoted}); COMP_CWORD=${all.length - 1}; _tscompose; printf '%s\\n' "\${COMPREPLY[@]}"`],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe('completion scripts', () => {
  test('the model is read off the program: new commands and their flags, services, subcommands', () => {
    const names = model.commands.map((c) => c.name);
    for (const c of ['up', 'down', 'volumes', 'viz', 'export', 'commit', 'completion', 'image', 'config']) expect(names).toContain(c);
    const commit = model.commands.find((c) => c.name === 'commit')!;
    expect(commit.services).toBe('first');
    expect(commit.flags.flatMap((f) => [f.long, f.short])).toEqual(expect.arrayContaining(['--author', '-a', '--change', '-c', '--index', '--help']));
    expect(model.commands.find((c) => c.name === 'up')!.services).toBe('all');
    expect(model.commands.find((c) => c.name === 'viz')!.flags.find((f) => f.long === '--format')?.choices).toEqual(['dot', 'mermaid']);
    expect(model.commands.find((c) => c.name === 'image')!.subcommands.map((s) => s.name)).toContain('ls');
    expect(model.globals.find((f) => f.long === '--runtime')?.choices).toEqual(['docker', 'native', 'auto', 'swarm']);
  });

  test('bash: valid syntax (bash -n)', () => {
    const r = spawnSync('bash', ['-n'], { input: completionScript(program, 'bash'), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('bash: commands, flags, flag choices, services (with the global options given), subcommands', () => {
    expect(bashComplete(['vo'])).toEqual(['volumes']);
    expect(bashComplete(['--runtime', 'n'])).toEqual(['native']);
    expect(bashComplete(['--pro'])).toEqual(expect.arrayContaining(['--profile', '--progress', '--project-name', '--project-directory']));
    expect(bashComplete(['commit', '--au'])).toEqual(['--author']);
    expect(bashComplete(['viz', '--format', ''])).toEqual(['dot', 'mermaid']);
    expect(bashComplete(['-f', 'x.yaml', '-p', 'shop', 'up', '-d', ''])).toEqual(['web', 'db']);
    expect(spawnSync('cat', [join(dir, 'args')], { encoding: 'utf8' }).stdout.trim()).toBe('-f x.yaml -p shop config --services');
    expect(bashComplete(['export', 'w'])).toEqual(['web']);
    // commit SERVICE [REPOSITORY]: only the first argument is a service; a flag's value is not an argument
    expect(bashComplete(['commit', '-m', 'msg', 'web', 'zzz-no-such-file'])).toEqual([]);
    expect(bashComplete(['commit', '-m', 'msg', 'd'])).toEqual(['db']);
    expect(bashComplete(['image', 'l'])).toEqual(expect.arrayContaining(['ls', 'load']));
    expect(bashComplete(['completion', ''])).not.toContain('web');
  });

  test('zsh: valid syntax (zsh -n) when zsh is here; commands with descriptions', () => {
    const script = zshScript(model);
    expect(script).toMatch(/^#compdef tscompose\n/);
    expect(script).toContain("'volumes:List volumes'");
    expect(script).toContain("'--format:graph language'");
    if (!has('zsh')) return;
    const r = spawnSync('zsh', ['-n'], { input: script, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('fish: valid syntax (fish -n) when fish is here; one line per command and flag', () => {
    const script = fishScript(model);
    expect(script).toContain("complete -c tscompose -n '__fish_seen_subcommand_from commit' -l author -s a -r -F -d");
    expect(script).toContain("complete -c tscompose -n '__fish_seen_subcommand_from export' -a '(_tscompose_services)'");
    expect(script).toContain("-l format -x -a 'dot mermaid'");
    if (!has('fish')) return;
    const file = join(dir, 'tscompose.fish');
    writeFileSync(file, script);
    const r = spawnSync('fish', ['--no-execute', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // what fish completes, with the stand-in tscompose first on PATH
    const complete = (line: string): string[] =>
      spawnSync('fish', ['-c', `source ${file}; complete -C${JSON.stringify(line)}`], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` },
      })
        .stdout.split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t')[0]!);
    expect(complete('tscompose vol')).toEqual(['volumes']);
    expect(complete('tscompose viz --format ')).toEqual(['dot', 'mermaid']);
    expect(complete('tscompose -p shop export ')).toEqual(expect.arrayContaining(['web', 'db']));
  });

  test('zsh: the script loads after compinit and defines its function', () => {
    if (!has('zsh')) return;
    const file = join(dir, '_tscompose');
    writeFileSync(file, zshScript(model));
    const r = spawnSync('zsh', ['-f', '-c', `autoload -U compinit; compinit -u -D; source ${file}; whence -w _tscompose; print $_comps[tscompose]`], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('_tscompose: function\n_tscompose\n');
  });
});

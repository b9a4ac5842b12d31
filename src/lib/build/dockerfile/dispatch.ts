/**
 * A stage's variables, instruction by instruction, as BuildKit's dockerfile2llb dispatcher
 * (frontend/dockerfile/dockerfile2llb/convert.go): one ordered environment ("the state's env": the base image's
 * Env, then every ARG with a value and every ENV, the last one of a name winning) expands the instructions
 * that support it, and is what RUN sees; the image config's Env only takes the base's Env and ENV.
 * - ENV, LABEL: keys and values expanded (BuildKit's KeyValuePairs.Expand) with the env from before the
 *   instruction, so `ENV a=1 b=$a` sees the old `a`.
 * - ARG: a build arg's value wins, else the default expanded with the env so far, else (no default) the global
 *   ARG's value; an ARG with no value sets nothing.
 * - WORKDIR, USER, STOPSIGNAL, VOLUME, COPY/ADD (sources, dest, --chown, ADD's --checksum): each word expanded
 *   (CopyCommand.Expand/AddCommand.Expand; --chmod and --from are not);
 *   a COPY/ADD heredoc whose delimiter is unquoted: its body expanded with quotes left alone (ExpandRaw).
 * - EXPOSE: each argument expanded and split into words (dispatchExpose's ProcessWords).
 * - RUN: the `--mount` values expanded (ParseMount's expander); the command is the shell's business.
 * - CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER, COPY --from/--chmod: not expanded.
 */
import { DockerfileSyntaxError } from './errors.js';
import { envLookup, processWord, processWords } from './expand.js';
import type { Instruction, KeyValue, RunInstruction } from './instructions.js';
import { parseMount } from './mounts.js';
import { chompHeredoc, parseHeredocWord } from './parser.js';

/** The PATH BuildKit puts in an image config without one (system.DefaultPathEnv for Linux). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Sets `key` in a `KEY=value` list: replaced in place, or appended. */
export function setEnv(list: string[], key: string, value: string): void {
  const i = list.findIndex((kv) => kv === key || kv.startsWith(`${key}=`));
  if (i >= 0) list[i] = `${key}=${value}`;
  else list.push(`${key}=${value}`);
}

/** The environment of a stage while its instructions are dispatched. */
export class StageEnv {
  /** What expansion and RUN see. */
  readonly state: string[];
  /** The image config's Env. */
  readonly config: string[];
  /** The ARGs declared in the stage with their values (undefined: declared without one). */
  readonly args = new Map<string, string | undefined>();

  constructor(
    baseEnv: readonly string[],
    private readonly escape: string,
    private readonly buildArgs: ReadonlyMap<string, string>,
    private readonly globalArgs: ReadonlyMap<string, string>,
  ) {
    this.config = [...baseEnv];
    if (!this.config.some((kv) => kv.startsWith('PATH='))) this.config.push(`PATH=${DEFAULT_PATH}`);
    this.state = [...this.config];
  }

  /** Expands one word with the current env. */
  word(w: string): string {
    return processWord(w, envLookup(this.state), { escape: this.escape });
  }

  /** The instruction with its values expanded, and the env updated by ARG/ENV. Throws DockerfileSyntaxError. */
  dispatch(inst: Instruction): Instruction {
    try {
      return this.apply(inst);
    } catch (e) {
      if (e instanceof DockerfileSyntaxError) throw e;
      throw new DockerfileSyntaxError(inst, (e as Error).message);
    }
  }

  private pairs(pairs: readonly KeyValue[]): KeyValue[] {
    return pairs.map((p) => ({ key: this.word(p.key), value: this.word(p.value) }));
  }

  private apply(inst: Instruction): Instruction {
    const w = (s: string): string => this.word(s);
    const opt = (s: string | undefined): string | undefined => (s === undefined ? undefined : w(s));
    switch (inst.kind) {
      case 'ENV': {
        const pairs = this.pairs(inst.pairs);
        for (const p of pairs) {
          setEnv(this.config, p.key, p.value);
          setEnv(this.state, p.key, p.value);
        }
        return { ...inst, pairs };
      }
      case 'LABEL':
        return { ...inst, pairs: this.pairs(inst.pairs) };
      case 'ARG': {
        const args = inst.args.map((a) => {
          let value: string | undefined;
          if (this.buildArgs.has(a.key)) value = this.buildArgs.get(a.key);
          else if (a.value !== undefined) value = w(a.value);
          else value = this.globalArgs.get(a.key);
          this.args.set(a.key, value);
          if (value !== undefined) setEnv(this.state, a.key, value);
          return { key: a.key, value };
        });
        return { ...inst, args };
      }
      case 'WORKDIR':
      case 'USER':
      case 'STOPSIGNAL':
        return { ...inst, value: w(inst.value) };
      case 'VOLUME':
        return { ...inst, values: inst.values.map(w) };
      case 'EXPOSE':
        return {
          ...inst,
          values: inst.values.flatMap((v) => processWords(v, envLookup(this.state), { escape: this.escape })),
        };
      case 'COPY':
      case 'ADD':
        return {
          ...inst,
          sources: inst.sources.map(w),
          dest: w(inst.dest),
          chown: opt(inst.chown),
          checksum: opt(inst.checksum),
          heredocSources: inst.heredocSources.map((h) =>
            h.expand ? { ...h, content: processWord(h.content, envLookup(this.state), { skipProcessQuotes: true }) } : h,
          ),
        };
      case 'RUN':
        return { ...inst, mounts: inst.mountSpecs.map((m) => parseMount(m, w)) };
      default:
        return inst;
    }
  }
}

/** What a RUN executes: its argv, and for a `#!` heredoc script the file to place at `/dev/pipes/<name>`. */
export interface RunCommandLine {
  readonly args: readonly string[];
  readonly script: { readonly path: string; readonly content: string; readonly mode: number } | undefined;
}

/**
 * The argv of a RUN as BuildKit's dispatchRun: the exec form as is; the shell form after the SHELL
 * (default `/bin/sh -c`). With heredocs: a command that is just one heredoc runs its body — through the shell,
 * or, when the body starts with `#!`, as an executable file mounted at /dev/pipes/<name>; otherwise the line and
 * the bodies (each followed by its delimiter) go to the shell, which reads the heredocs itself.
 */
export function runCommandLine(run: RunInstruction, shell: readonly string[] = ['/bin/sh', '-c']): RunCommandLine {
  if (run.command.form === 'exec') return { args: run.command.args, script: undefined };
  const command = run.command.command;
  const first = run.heredocs[0];
  if (first === undefined) return { args: [...shell, command], script: undefined };
  const single = parseHeredocWord(command);
  if (single !== undefined && run.heredocs.length === 1) {
    const data = first.chomp ? chompHeredoc(first.content) : first.content;
    if (data.startsWith('#!')) {
      const path = `/dev/pipes/${first.name}`;
      return { args: [path], script: { path, content: data, mode: 0o755 } };
    }
    return { args: [...shell, data], script: undefined };
  }
  let full = command;
  for (const h of run.heredocs) full += `\n${h.content}${h.name}`;
  return { args: [...shell, full], script: undefined };
}

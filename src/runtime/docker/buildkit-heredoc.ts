/**
 * Dockerfile heredocs for engines whose built-in Dockerfile frontend predates them. Heredocs (`RUN <<EOF`,
 * `COPY <<EOF /x`) are Dockerfile syntax 1.4 (BuildKit 0.10, built into Docker Engine 23.0); Docker 20.10's
 * BuildKit parses them as unknown instructions, and its classic builder has none either. Without a registry to
 * pull a newer frontend from, tscompose rewrites each heredoc instruction into what Dockerfile 1.4 runs for it
 * (frontend/dockerfile/dockerfile2llb dispatchRun/dispatchCopy), in syntax the old frontend knows:
 * - RUN whose command is one heredoc: the body run by the stage's SHELL (`RUN ["/bin/sh","-c","<body>"]`), or, for
 *   a `#!` body, the body as an executable file bind-mounted at /dev/pipes/<name> and run (BuildKit only);
 * - RUN with heredocs inside a command: the command line and the bodies, each followed by its delimiter, given
 *   to the SHELL (which reads the heredocs itself);
 * - COPY/ADD with heredoc sources: each body becomes a file `<dir>/<n>/<name>` added to the build context, the
 *   instruction copying it instead (same name, mode 0644, --chmod/--chown kept). A body whose delimiter is not
 *   quoted is expanded with the Dockerfile's ARGs (build args applied) and ENVs, as the frontend does; the base
 *   image's own ENV is not known here, so a variable only it sets expands to nothing.
 * RUN/COPY flags are kept as written; other lines are left as they are. A Dockerfile with a `# syntax=` directive
 * (or a BUILDKIT_SYNTAX build arg) names its own frontend and is never rewritten.
 */
import { runCommandLine, StageEnv } from '../../lib/build/dockerfile/dispatch.js';
import { parseInstruction, type Instruction } from '../../lib/build/dockerfile/instructions.js';
import { parseDockerfile, parseHeredocWord, type Node } from '../../lib/build/dockerfile/parser.js';

/** Where in the build context the heredoc files go. */
export const HEREDOC_DIR = '.tscompose-heredocs';

export interface ContextFile {
  /** Relative (posix) path in the build context. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export interface LoweredDockerfile {
  readonly dockerfile: string;
  /** Files to add to the build context. */
  readonly files: readonly ContextFile[];
  /** How many instructions were rewritten. */
  readonly rewritten: number;
}

export interface LowerOptions {
  readonly buildArgs?: Readonly<Record<string, string>> | undefined;
  /** Whether a `#!` RUN heredoc may be rewritten (it needs `RUN --mount`, which only BuildKit has). */
  readonly mounts: boolean;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** Whether `text` has heredocs to rewrite (and no `# syntax=` directive). Cheap: no full parse unless `<<` occurs. */
export function needsLowering(text: string, buildArgs?: Readonly<Record<string, string>>): boolean {
  if (!text.includes('<<') || buildArgs?.['BUILDKIT_SYNTAX']) return false;
  try {
    const df = parseDockerfile(text);
    return df.syntax === undefined && df.nodes.some((n) => n.heredocs.length > 0);
  } catch {
    return false; // the engine will report the syntax error
  }
}

/**
 * `text` with its heredoc instructions rewritten, or undefined when there is nothing to rewrite (no heredocs, a
 * `# syntax=` directive, or a Dockerfile this parser refuses: the engine then reports the error itself).
 */
export function lowerHeredocs(text: string, options: LowerOptions): LoweredDockerfile | undefined {
  if (!needsLowering(text, options.buildArgs)) return undefined;
  const df = parseDockerfile(text);
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const files: ContextFile[] = [];
  const replacements: { start: number; end: number; text: string }[] = [];
  const buildArgs = new Map(Object.entries(options.buildArgs ?? {}));
  const globals = new Map<string, string>();
  const stages: { name: string | undefined; shell: string[]; env: readonly string[] }[] = [];
  let shell = DEFAULT_SHELL;
  let env: StageEnv | undefined;

  for (const node of df.nodes) {
    let inst: Instruction;
    try {
      inst = parseInstruction(node, df.escape);
    } catch {
      return undefined;
    }
    if (inst.kind === 'FROM') {
      if (env) stages[stages.length - 1]!.env = env.config;
      const base = stages.find((s, i) => s.name === inst.image.toLowerCase() || String(i) === inst.image);
      shell = base ? [...base.shell] : DEFAULT_SHELL;
      env = new StageEnv(base?.env ?? [], df.escape, buildArgs, globals);
      stages.push({ name: inst.stageName, shell, env: [] });
      continue;
    }
    if (!env) {
      if (inst.kind === 'ARG') for (const a of inst.args) globals.set(a.key, buildArgs.get(a.key) ?? a.value ?? '');
      continue;
    }
    let expanded: Instruction = inst;
    try {
      expanded = env.dispatch(inst);
    } catch {
      // left to the engine
    }
    if (inst.kind === 'SHELL') {
      shell = [...inst.shell];
      stages[stages.length - 1]!.shell = shell;
    }
    if (node.heredocs.length === 0) continue;
    let replacement: string | undefined;
    if (inst.kind === 'RUN') replacement = lowerRun(node, inst, shell, files, options.mounts);
    else if ((inst.kind === 'COPY' || inst.kind === 'ADD') && expanded.kind === inst.kind) replacement = lowerCopy(node, expanded, files);
    if (replacement !== undefined) replacements.push({ start: node.startLine - 1, end: node.endLine - 1, text: replacement });
  }
  if (replacements.length === 0) return undefined;
  for (const r of replacements.reverse()) lines.splice(r.start, r.end - r.start + 1, r.text);
  return { dockerfile: lines.join('\n'), files, rewritten: replacements.length };
}

const flagText = (node: Node): string => node.flags.map((f) => `${f} `).join('');
const keyword = (node: Node): string => node.name.toUpperCase();

function lowerRun(
  node: Node,
  inst: Extract<Instruction, { kind: 'RUN' }>,
  shell: readonly string[],
  files: ContextFile[],
  mounts: boolean,
): string | undefined {
  const line = runCommandLine(inst, shell);
  if (line.script === undefined) return `${keyword(node)} ${flagText(node)}${JSON.stringify(line.args)}`;
  if (!mounts) return undefined;
  const name = line.script.path.slice('/dev/pipes/'.length);
  const path = `${HEREDOC_DIR}/${files.length + 1}/${name}`;
  files.push({ path, content: line.script.content, mode: line.script.mode });
  const mount = `--mount=type=bind,source=${path},target=${line.script.path}`;
  return `${keyword(node)} ${flagText(node)}${mount} ${JSON.stringify(line.args)}`;
}

function lowerCopy(node: Node, inst: Extract<Instruction, { kind: 'COPY' | 'ADD' }>, files: ContextFile[]): string | undefined {
  if (node.json || inst.from !== undefined) return undefined;
  const words = node.rest.trim().split(/[\t\v\f\r ]+/);
  const out = words.map((w, i) => {
    if (i === words.length - 1) return w;
    const h = parseHeredocWord(w);
    const doc = h && inst.heredocSources.find((d) => d.path === h.name);
    if (!doc) return w;
    const path = `${HEREDOC_DIR}/${files.length + 1}/${doc.path}`;
    files.push({ path, content: doc.content, mode: 0o644 });
    return path;
  });
  return `${keyword(node)} ${flagText(node)}${out.join(' ')}`;
}

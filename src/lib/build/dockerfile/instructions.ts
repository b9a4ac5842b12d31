/**
 * Typed instructions from parsed nodes, as BuildKit's frontend/dockerfile/instructions/parse.go: each
 * instruction's flags, argument counts and forms, with its messages. Values are kept as written (quotes, `$V`):
 * stages.ts expands them per stage, as BuildKit's dispatcher does.
 */
import { DockerfileSyntaxError, ExpansionError, type Position } from './errors.js';
import { parseFlags, parseGoDuration, type FlagType, type ParsedFlags } from './flags.js';
import { parseMount, type Mount } from './mounts.js';
import { chompHeredoc, parseHeredocWord, parseJsonArray, parseWords, type Heredoc, type Node, type ParsedDockerfile } from './parser.js';

/** A command in exec form (JSON array) or shell form (one string run by the SHELL). */
export type Command = { readonly form: 'exec'; readonly args: readonly string[] } | { readonly form: 'shell'; readonly command: string };

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}
export interface ArgDecl {
  readonly key: string;
  /** The default as written; undefined when there is none. */
  readonly value: string | undefined;
}
/** A COPY/ADD source given inline by a heredoc: its file name, body (tabs chomped for `<<-`) and expansion. */
export interface HeredocSource {
  readonly path: string;
  readonly content: string;
  readonly expand: boolean;
}

interface Base extends Position {
  /** The logical line as written. */
  readonly original: string;
}
export interface FromInstruction extends Base {
  readonly kind: 'FROM';
  readonly image: string;
  /** The stage name (`AS name`), lower-cased. */
  readonly stageName: string | undefined;
  readonly platform: string | undefined;
}
export interface ArgInstruction extends Base {
  readonly kind: 'ARG';
  readonly args: readonly ArgDecl[];
}
export interface EnvInstruction extends Base {
  readonly kind: 'ENV' | 'LABEL';
  readonly pairs: readonly KeyValue[];
  /** Written as `ENV key value` (the legacy form). */
  readonly legacy: boolean;
}
export interface RunInstruction extends Base {
  readonly kind: 'RUN';
  readonly command: Command;
  /** The heredocs of the line, raw (RUN passes them to the shell; see runHeredocScript in stages.ts). */
  readonly heredocs: readonly Heredoc[];
  /** The `--mount` values as written. */
  readonly mountSpecs: readonly string[];
  /** The mounts parsed without expansion (stages.ts parses them again with the stage's variables). */
  readonly mounts: readonly Mount[];
  readonly network: 'default' | 'none' | 'host' | undefined;
  readonly security: 'sandbox' | 'insecure' | undefined;
}
export interface CopyInstruction extends Base {
  readonly kind: 'COPY' | 'ADD';
  readonly sources: readonly string[];
  readonly heredocSources: readonly HeredocSource[];
  readonly dest: string;
  readonly from: string | undefined;
  readonly chown: string | undefined;
  readonly chmod: string | undefined;
  readonly link: boolean;
  readonly exclude: readonly string[];
  readonly parents: boolean;
  /** ADD only. */
  readonly checksum: string | undefined;
  readonly keepGitDir: boolean;
  readonly unpack: boolean | undefined;
}
export interface ValueInstruction extends Base {
  readonly kind: 'WORKDIR' | 'USER' | 'STOPSIGNAL' | 'MAINTAINER';
  readonly value: string;
}
export interface CmdInstruction extends Base {
  readonly kind: 'CMD' | 'ENTRYPOINT';
  readonly command: Command;
}
export interface ListInstruction extends Base {
  readonly kind: 'EXPOSE' | 'VOLUME';
  readonly values: readonly string[];
}
export interface ShellInstruction extends Base {
  readonly kind: 'SHELL';
  readonly shell: readonly string[];
}
export interface HealthcheckInstruction extends Base {
  readonly kind: 'HEALTHCHECK';
  /** ["NONE"], ["CMD", …args] or ["CMD-SHELL", command], as the image config's Healthcheck.Test. */
  readonly test: readonly string[];
  /** Nanoseconds; 0 when not given (inherit/default). */
  readonly interval: number;
  readonly timeout: number;
  readonly startPeriod: number;
  readonly startInterval: number;
  readonly retries: number;
}
export interface OnbuildInstruction extends Base {
  readonly kind: 'ONBUILD';
  /** The trigger as text (`RUN echo hi`), with its heredocs, as BuildKit stores it in the image's OnBuild. */
  readonly expression: string;
}
export type Instruction =
  | FromInstruction
  | ArgInstruction
  | EnvInstruction
  | RunInstruction
  | CopyInstruction
  | ValueInstruction
  | CmdInstruction
  | ListInstruction
  | ShellInstruction
  | HealthcheckInstruction
  | OnbuildInstruction;

const NO_FLAGS: Record<string, FlagType> = {};
const FLAGS: Readonly<Record<string, Record<string, FlagType>>> = {
  from: { platform: 'string' },
  run: { mount: 'strings', network: 'string', security: 'string' },
  copy: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' },
  add: {
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    exclude: 'strings',
    'keep-git-dir': 'bool',
    checksum: 'string',
    unpack: 'bool',
  },
  healthcheck: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
};
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

const splitWhitespace = (rest: string): string[] => (rest.trim() === '' ? [] : rest.trim().split(/[\t\v\f\r ]+/));

/** Parses one node into its typed instruction; throws DockerfileSyntaxError naming the node's file:line. */
export function parseInstruction(node: Node, escape = '\\'): Instruction {
  try {
    return parseNode(node, escape);
  } catch (e) {
    // a word that cannot be lexed (an unmatched quote in a heredoc marker, say) is a syntax error of this line
    if (e instanceof ExpansionError) throw new DockerfileSyntaxError(node, e.message);
    throw e;
  }
}

function parseNode(node: Node, escape: string): Instruction {
  const fail = (detail: string): never => {
    throw new DockerfileSyntaxError(node, detail);
  };
  let flags: ParsedFlags;
  try {
    flags = parseFlags(node.flags, FLAGS[node.keyword] ?? NO_FLAGS);
  } catch (e) {
    return fail((e as Error).message);
  }
  const base = { file: node.file, startLine: node.startLine, endLine: node.endLine, original: node.original };
  const upper = node.keyword.toUpperCase();
  const atLeastOne = (): never => fail(`${upper} requires at least one argument`);
  const exactlyOne = (): never => fail(`${upper} requires exactly one argument`);
  const command = (): Command => (node.json ? { form: 'exec', args: node.json } : { form: 'shell', command: node.rest });
  switch (node.keyword) {
    case 'from': {
      const args = splitWhitespace(node.rest);
      if (args.length !== 1 && !(args.length === 3 && args[1]?.toLowerCase() === 'as')) {
        fail('FROM requires either one or three arguments');
      }
      const stageName = args[2]?.toLowerCase();
      if (stageName !== undefined && !STAGE_NAME.test(stageName)) {
        fail(`invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
      }
      return { ...base, kind: 'FROM', image: args[0] ?? '', stageName, platform: flags.strings.get('platform') };
    }
    case 'arg': {
      const words = parseWords(node.rest, escape);
      if (words.length === 0) atLeastOne();
      const args = words.map((w): ArgDecl => {
        const eq = w.indexOf('=');
        if (eq === 0) fail('ARG names can not be blank');
        return eq < 0 ? { key: w, value: undefined } : { key: w.slice(0, eq), value: w.slice(eq + 1) };
      });
      return { ...base, kind: 'ARG', args };
    }
    case 'env':
    case 'label':
      return parseKeyValues(node, upper as 'ENV' | 'LABEL', escape, base, fail);
    case 'run': {
      let mounts: Mount[];
      const mountSpecs = flags.lists.get('mount') ?? [];
      try {
        mounts = mountSpecs.map((m) => parseMount(m));
      } catch (e) {
        return fail((e as Error).message);
      }
      const network = flags.strings.get('network');
      if (network !== undefined && !['default', 'none', 'host'].includes(network)) {
        fail(`unsupported network mode "${network}"`);
      }
      const security = flags.strings.get('security');
      if (security !== undefined && !['sandbox', 'insecure'].includes(security)) {
        fail(`unsupported security mode "${security}"`);
      }
      return {
        ...base,
        kind: 'RUN',
        command: command(),
        heredocs: node.heredocs,
        mountSpecs,
        mounts,
        network: network as RunInstruction['network'],
        security: security as RunInstruction['security'],
      };
    }
    case 'copy':
    case 'add':
      return parseCopy(node, upper as 'COPY' | 'ADD', flags, base, fail);
    case 'workdir':
    case 'user':
    case 'stopsignal':
    case 'maintainer':
      if (node.rest === '') exactlyOne();
      return { ...base, kind: upper as ValueInstruction['kind'], value: node.rest };
    case 'cmd':
    case 'entrypoint':
      return { ...base, kind: upper as 'CMD' | 'ENTRYPOINT', command: command() };
    case 'expose':
    case 'volume': {
      const values = node.json ?? splitWhitespace(node.rest);
      if (values.length === 0) atLeastOne();
      if (upper === 'VOLUME' && values.some((v) => v.trim() === '')) fail('VOLUME specified can not be an empty string');
      return { ...base, kind: upper as 'EXPOSE' | 'VOLUME', values };
    }
    case 'shell':
      if (!node.json) fail('SHELL requires the arguments to be in JSON form');
      if (node.json?.length === 0) atLeastOne();
      return { ...base, kind: 'SHELL', shell: node.json ?? [] };
    case 'healthcheck':
      return parseHealthcheck(node, flags, base, fail);
    case 'onbuild': {
      const trigger = node.trigger?.keyword.toUpperCase();
      if (trigger === undefined) atLeastOne();
      if (trigger === 'ONBUILD') fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of node.heredocs) expression += '\n' + h.content + h.name;
      return { ...base, kind: 'ONBUILD', expression };
    }
    default:
      return fail(`unknown instruction: ${node.name}`);
  }
}

type Fail = (detail: string) => never;
type BaseFields = Base;

function parseKeyValues(node: Node, kind: 'ENV' | 'LABEL', escape: string, base: BaseFields, fail: Fail): EnvInstruction {
  const words = parseWords(node.rest, escape);
  if (words.length === 0) fail(`${kind} requires at least one argument`);
  const first = words[0] ?? '';
  if (!first.includes('=')) {
    // the legacy form: the first word is the key, everything after the first whitespace its value
    const m = /[\t\v\f\r ]+/.exec(node.rest);
    if (!m) fail(`${kind} must have two arguments`);
    const key = node.rest.slice(0, m?.index ?? 0);
    return { ...base, kind, pairs: [{ key, value: node.rest.slice((m?.index ?? 0) + (m?.[0].length ?? 0)) }], legacy: true };
  }
  const pairs = words.map((w): KeyValue => {
    const eq = w.indexOf('=');
    if (eq < 0) fail(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    if (eq === 0) fail(`${kind} names can not be blank`);
    return { key: w.slice(0, eq), value: w.slice(eq + 1) };
  });
  return { ...base, kind, pairs, legacy: false };
}

function parseCopy(node: Node, kind: 'COPY' | 'ADD', flags: ParsedFlags, base: BaseFields, fail: Fail): CopyInstruction {
  const args = node.json ?? splitWhitespace(node.rest);
  if (args.length < 2) fail(`${kind} requires at least two arguments, but only ${args.length} provided`);
  const dest = args[args.length - 1] ?? '';
  if (!node.json && parseHeredocWord(dest)) fail(`${kind} cannot accept a heredoc as a destination`);
  const sources: string[] = [];
  const heredocSources: HeredocSource[] = [];
  for (const src of args.slice(0, -1)) {
    const h = node.json ? undefined : parseHeredocWord(src);
    const doc = h && node.heredocs.find((d) => d.name === h.name);
    if (doc) {
      heredocSources.push({ path: doc.name, content: doc.chomp ? chompHeredoc(doc.content) : doc.content, expand: doc.expand });
    } else {
      sources.push(src);
    }
  }
  return {
    ...base,
    kind,
    sources,
    heredocSources,
    dest,
    from: flags.strings.get('from'),
    chown: flags.strings.get('chown'),
    chmod: flags.strings.get('chmod'),
    link: flags.bools.get('link') ?? false,
    exclude: flags.lists.get('exclude') ?? [],
    parents: flags.bools.get('parents') ?? false,
    checksum: flags.strings.get('checksum'),
    keepGitDir: flags.bools.get('keep-git-dir') ?? false,
    unpack: flags.bools.get('unpack'),
  };
}

function parseHealthcheck(node: Node, flags: ParsedFlags, base: BaseFields, fail: Fail): HealthcheckInstruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(node.rest);
  if (!m) return fail('HEALTHCHECK requires at least one argument');
  const type = (m[1] ?? '').toUpperCase();
  const rest = m[2] ?? '';
  const duration = (name: string): number => {
    const s = flags.strings.get(name) ?? '';
    if (s === '') return 0;
    let d: number;
    try {
      d = parseGoDuration(s);
    } catch (e) {
      return fail((e as Error).message);
    }
    if (d === 0) return 0;
    if (d < 1e6) fail(`Interval "${name}" cannot be less than 1ms`);
    return d;
  };
  if (type === 'NONE') {
    if (rest !== '') fail('HEALTHCHECK NONE takes no arguments');
    return { ...base, kind: 'HEALTHCHECK', test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  }
  if (type !== 'CMD') fail(`Unknown type "${m[1]}" in HEALTHCHECK (try CMD)`);
  let json: string[] | undefined;
  try {
    json = parseJsonArray(rest);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (rest === '') fail('Missing command after HEALTHCHECK CMD');
  const test = json ? ['CMD', ...json] : ['CMD-SHELL', rest];
  const retriesText = flags.strings.get('retries') ?? '';
  const retries = retriesText === '' ? 0 : Number(retriesText);
  if (!/^-?\d+$/.test(retriesText) && retriesText !== '') fail(`invalid value for retries: ${retriesText}`);
  if (retries < 0) fail(`--retries cannot be negative (${retries})`);
  return {
    ...base,
    kind: 'HEALTHCHECK',
    test,
    interval: duration('interval'),
    timeout: duration('timeout'),
    startPeriod: duration('start-period'),
    startInterval: duration('start-interval'),
    retries,
  };
}

/** Types every node of a parsed Dockerfile (the first error stops it). */
export function parseInstructions(df: ParsedDockerfile): Instruction[] {
  return df.nodes.map((n) => parseInstruction(n, df.escape));
}

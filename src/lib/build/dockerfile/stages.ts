/**
 * The stages of a Dockerfile, as BuildKit's dockerfile2llb (toDispatchState) and instructions.Parse see them:
 * - ARGs before the first FROM are global ("meta") ARGs: each takes its build arg, else its default expanded
 *   with the global ARGs so far (the predefined BUILDPLATFORM/BUILDOS/BUILDARCH/BUILDVARIANT and
 *   TARGETPLATFORM/TARGETOS/TARGETARCH/TARGETVARIANT included). They expand FROM's image and --platform only;
 *   inside a stage a global ARG is visible once re-declared (`ARG NAME` takes the global's value).
 *   Any other instruction before the first FROM is an error.
 * - a FROM's image names an earlier stage (by name, case-insensitive), `scratch`, or an image.
 * - COPY --from and RUN --mount from= name a stage (by name, or by index) or else an image; a stage needs the
 *   stages it is based on and takes files from, transitively; a cycle is an error. Only the stages the target
 *   (default: the last stage) needs are built, and only those are expanded (dispatch.ts).
 * - ONBUILD triggers (from a base image through `onbuildTriggers`, or from a base stage's ONBUILD
 *   instructions) run first in the child stage, as BuildKit's initOnBuildTriggers; they are parsed here.
 * Not done (BuildKit does): named build contexts, `COPY --from` through variables, platforms other than one.
 */
import { DockerfileSyntaxError, UnknownTargetError } from './errors.js';
import { envLookup, processWord } from './expand.js';
import { StageEnv } from './dispatch.js';
import { parseInstruction, parseInstructions, type ArgInstruction, type FromInstruction, type Instruction } from './instructions.js';
import { parseDockerfile, type ParsedDockerfile } from './parser.js';

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string | undefined;
}

export interface ResolveOptions {
  /** compose `build.args` / `--build-arg`; only declared ARGs take them. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** The stage to build (compose `build.target`); the last stage by default. */
  readonly target?: string | undefined;
  /** The target platform (TARGETPLATFORM…); the host's by default. */
  readonly platform?: Platform | undefined;
  /** The build platform (BUILDPLATFORM…); the target platform by default. */
  readonly buildPlatform?: Platform | undefined;
  /** A base image's config Env (undefined when not known yet: then empty, plus the default PATH). */
  readonly baseImageEnv?: ((ref: string) => readonly string[] | undefined) | undefined;
  /** A base image's ONBUILD triggers (its config's OnBuild). */
  readonly onbuildTriggers?: ((ref: string) => readonly string[] | undefined) | undefined;
}

export type StageBase =
  { readonly kind: 'scratch' } | { readonly kind: 'image'; readonly ref: string } | { readonly kind: 'stage'; readonly index: number };

/** One instruction of a stage, expanded, with the env that RUN sees at that point (`KEY=value`). */
export interface Step {
  readonly instruction: Instruction;
  readonly env: readonly string[];
}

export interface Stage {
  readonly index: number;
  /** The `AS` name, lower-cased. */
  readonly name: string | undefined;
  /** The name BuildKit shows: the `AS` name, or `stage-N`. */
  readonly displayName: string;
  /** The FROM instruction with its image and platform expanded by the global ARGs. */
  readonly from: FromInstruction;
  readonly base: StageBase;
  /** The instructions after FROM, as written (ONBUILD triggers of the base first). */
  readonly instructions: readonly Instruction[];
  /** The stages this one needs directly (its base, COPY --from, RUN --mount from=), by index. */
  readonly dependencies: readonly number[];
  /** Images (not stages) read by COPY --from or RUN --mount from=. */
  readonly images: readonly string[];
  /** Expanded steps; only for the stages the target needs. */
  readonly steps: readonly Step[] | undefined;
  /** The image config Env at the end of the stage (base Env, default PATH, ENV); for needed stages. */
  readonly configEnv: readonly string[] | undefined;
  /** The ARGs the stage declared, with their values. */
  readonly args: ReadonlyMap<string, string | undefined> | undefined;
}

export interface StagePlan {
  readonly file: string;
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
  /** The target stage's index. */
  readonly target: number;
  /** The stages the target needs, dependencies first (the target last). */
  readonly order: readonly number[];
  /** Build args that no ARG declares (Docker warns "were not consumed"). */
  readonly unusedBuildArgs: readonly string[];
}

const ARCH: Readonly<Record<string, Platform>> = {
  x64: { os: 'linux', architecture: 'amd64' },
  arm64: { os: 'linux', architecture: 'arm64' },
  arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
  ia32: { os: 'linux', architecture: '386' },
  ppc64: { os: 'linux', architecture: 'ppc64le' },
  s390x: { os: 'linux', architecture: 's390x' },
  riscv64: { os: 'linux', architecture: 'riscv64' },
};

/** The platform this process runs on, as OCI names it. */
export function hostPlatform(): Platform {
  return ARCH[process.arch] ?? { os: 'linux', architecture: process.arch };
}

/** `os/arch[/variant]`. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/** The predefined platform ARGs (BuildKit's defaultArgs). */
export function platformArgs(target: Platform, build: Platform = target): Map<string, string> {
  return new Map([
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
  ]);
}

interface RawStage {
  from: FromInstruction;
  instructions: Instruction[];
}

/** Splits typed instructions into global ARGs and stages (BuildKit's instructions.Parse). */
export function splitStages(insts: readonly Instruction[]): { globalArgs: ArgInstruction[]; stages: RawStage[] } {
  const globalArgs: ArgInstruction[] = [];
  const stages: RawStage[] = [];
  const names = new Set<string>();
  for (const inst of insts) {
    if (inst.kind === 'FROM') {
      if (inst.stageName !== undefined) {
        if (names.has(inst.stageName)) throw new DockerfileSyntaxError(inst, `duplicate stage name "${inst.stageName}"`);
        names.add(inst.stageName);
      }
      stages.push({ from: inst, instructions: [] });
      continue;
    }
    const current = stages[stages.length - 1];
    if (current) current.instructions.push(inst);
    else if (inst.kind === 'ARG') globalArgs.push(inst);
    else throw new DockerfileSyntaxError(inst, 'no build stage in current context');
  }
  return { globalArgs, stages };
}

/** Parses a Dockerfile's text and resolves its stages. */
export function resolveDockerfile(text: string, file: string, options: ResolveOptions = {}): StagePlan {
  return resolveStages(parseDockerfile(text, file), options);
}

/** The stages of a parsed Dockerfile, their bases and dependencies, and the expanded steps of those the target needs. */
export function resolveStages(df: ParsedDockerfile, options: ResolveOptions = {}): StagePlan {
  const insts = parseInstructions(df);
  const { globalArgs: metaArgs, stages: raw } = splitStages(insts);
  if (raw.length === 0) {
    throw new DockerfileSyntaxError({ file: df.file, startLine: 1, endLine: 1 }, 'dockerfile contains no stages to build');
  }
  const buildArgs = new Map(Object.entries(options.buildArgs ?? {}));
  const target = options.platform ?? hostPlatform();
  const globals = platformArgs(target, options.buildPlatform ?? target);
  const declared = new Set<string>(globals.keys());
  for (const cmd of metaArgs) {
    for (const a of cmd.args) {
      declared.add(a.key);
      let value: string | undefined = buildArgs.get(a.key);
      if (value === undefined && a.value !== undefined) value = expandAt(cmd, a.value, globals, df.escape);
      if (value !== undefined) globals.set(a.key, value);
    }
  }

  // bases: FROM's image and platform expanded by the global ARGs; a stage name refers to an earlier stage
  const byName = new Map<string, number>();
  const froms: { from: FromInstruction; base: StageBase }[] = raw.map((s, index) => {
    const image = expandAt(s.from, s.from.image, globals, df.escape);
    if (image === '') throw new DockerfileSyntaxError(s.from, `base name (${s.from.image}) should not be blank`);
    const platform = s.from.platform === undefined ? undefined : expandAt(s.from, s.from.platform, globals, df.escape);
    const stageIndex = byName.get(image.toLowerCase());
    const base: StageBase =
      stageIndex !== undefined
        ? { kind: 'stage', index: stageIndex }
        : image.toLowerCase() === 'scratch'
          ? { kind: 'scratch' }
          : { kind: 'image', ref: image };
    if (s.from.stageName !== undefined) byName.set(s.from.stageName, index);
    return { from: { ...s.from, image, platform }, base };
  });

  // ONBUILD triggers: a base image's, or a base stage's ONBUILD instructions
  const instructionsOf = raw.map((s, i) => {
    const base = froms[i]?.base;
    let triggers: readonly string[] = [];
    if (base?.kind === 'image') triggers = options.onbuildTriggers?.(base.ref) ?? [];
    if (base?.kind === 'stage') {
      triggers = (raw[base.index]?.instructions ?? []).flatMap((x) => (x.kind === 'ONBUILD' ? [x.expression] : []));
    }
    return [...triggers.map((t) => parseTrigger(t, s.from, df.escape)), ...s.instructions];
  });

  const lookup = (ref: string, at: Instruction): { stage: number } | { image: string } => {
    if (/^\d+$/.test(ref)) {
      const n = Number(ref);
      if (n >= raw.length) throw new DockerfileSyntaxError(at, `invalid stage index ${ref}`);
      return { stage: n };
    }
    const n = byName.get(ref.toLowerCase());
    return n !== undefined ? { stage: n } : { image: ref };
  };
  const deps = instructionsOf.map((list, i) => {
    const stages = new Set<number>();
    const images = new Set<string>();
    const base = froms[i]?.base;
    if (base?.kind === 'stage') stages.add(base.index);
    const add = (ref: string, at: Instruction): void => {
      const r = lookup(ref, at);
      if ('stage' in r) stages.add(r.stage);
      else images.add(r.image);
    };
    for (const inst of list) {
      if ((inst.kind === 'COPY' || inst.kind === 'ADD') && inst.from !== undefined && inst.from !== '') add(inst.from, inst);
      if (inst.kind === 'RUN') for (const m of inst.mounts) if ((m.type === 'bind' || m.type === 'cache') && m.from !== '') add(m.from, inst);
    }
    return { stages: [...stages].sort((a, b) => a - b), images: [...images] };
  });

  let targetIndex = raw.length - 1;
  if (options.target !== undefined && options.target !== '') {
    const t = byName.get(options.target.toLowerCase());
    if (t === undefined) throw new UnknownTargetError(options.target, df.file, [...byName.keys()]);
    targetIndex = t;
  }
  const order = dependencyOrder(
    targetIndex,
    (i) => deps[i]?.stages ?? [],
    (i) => raw[i]?.from ?? raw[0]!.from,
    (i) => stageLabel(raw, i),
  );

  // expand the needed stages, bases first (a base stage is always earlier)
  const needed = new Set(order);
  const expanded = new Map<number, { steps: Step[]; configEnv: string[]; args: Map<string, string | undefined> }>();
  for (let i = 0; i < raw.length; i++) {
    if (!needed.has(i)) continue;
    const base = froms[i]?.base;
    const baseEnv =
      base?.kind === 'stage' ? (expanded.get(base.index)?.configEnv ?? []) : base?.kind === 'image' ? (options.baseImageEnv?.(base.ref) ?? []) : [];
    const env = new StageEnv(baseEnv, df.escape, buildArgs, globals);
    const steps: Step[] = [];
    for (const inst of instructionsOf[i] ?? []) {
      if (inst.kind === 'ARG') for (const a of inst.args) declared.add(a.key);
      const before = [...env.state];
      steps.push({ instruction: env.dispatch(inst), env: before });
    }
    expanded.set(i, { steps, configEnv: env.config, args: env.args });
  }
  for (const list of instructionsOf) for (const inst of list) if (inst.kind === 'ARG') for (const a of inst.args) declared.add(a.key);

  const stages: Stage[] = raw.map((s, i) => {
    const e = expanded.get(i);
    return {
      index: i,
      name: s.from.stageName,
      displayName: s.from.stageName ?? `stage-${i}`,
      from: froms[i]!.from,
      base: froms[i]!.base,
      instructions: instructionsOf[i] ?? [],
      dependencies: deps[i]?.stages ?? [],
      images: deps[i]?.images ?? [],
      steps: e?.steps,
      configEnv: e?.configEnv,
      args: e?.args,
    };
  });
  return {
    file: df.file,
    globalArgs: globals,
    stages,
    target: targetIndex,
    order,
    unusedBuildArgs: [...buildArgs.keys()].filter((k) => !declared.has(k)),
  };
}

function stageLabel(raw: readonly RawStage[], i: number): string {
  return raw[i]?.from.stageName ?? `stage-${i}`;
}

function expandAt(at: Instruction, word: string, env: ReadonlyMap<string, string>, escape: string): string {
  try {
    return processWord(word, envLookup(env), { escape });
  } catch (e) {
    throw new DockerfileSyntaxError(at, (e as Error).message);
  }
}

function parseTrigger(expression: string, from: FromInstruction, escape: string): Instruction {
  const escapeLine = escape === '`' ? '# escape=`\n' : '';
  let nodes;
  try {
    nodes = parseDockerfile(escapeLine + expression, from.file).nodes;
  } catch (e) {
    throw new DockerfileSyntaxError(from, `ONBUILD trigger: ${(e as Error).message}`);
  }
  const node = nodes[0];
  if (node === undefined) throw new DockerfileSyntaxError(from, 'ONBUILD trigger: empty');
  try {
    // errors and positions of a trigger are the stage's FROM line, as BuildKit's
    return { ...parseInstruction({ ...node, file: from.file, startLine: from.startLine, endLine: from.endLine }, escape) };
  } catch (e) {
    throw new DockerfileSyntaxError(from, `ONBUILD trigger: ${e instanceof DockerfileSyntaxError ? e.detail : (e as Error).message}`);
  }
}

/** Post-order from `target` through `deps`; a cycle is an error at the stage that closes it. */
function dependencyOrder(
  target: number,
  deps: (i: number) => readonly number[],
  at: (i: number) => FromInstruction,
  label: (i: number) => string,
): number[] {
  const order: number[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (i: number): void => {
    const s = state.get(i);
    if (s === 'done') return;
    if (s === 'visiting') throw new DockerfileSyntaxError(at(i), `circular dependency detected on stage: ${label(i)}`);
    state.set(i, 'visiting');
    for (const d of deps(i)) visit(d);
    state.set(i, 'done');
    order.push(i);
  };
  visit(target);
  return order;
}

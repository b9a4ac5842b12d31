/**
 * The loader: compose files in, canonical project out.
 *
 * Per file: YAML (positions kept) → interpolation → type casts → schema validation → canonical form →
 * `extends` → `include`. Then the files are merged in order, and the merged model is finalised (defaults,
 * environment and label files resolved), filtered by profiles and checked for consistency; last, the `environment:`
 * sources of secrets and configs take their values from the project's environment (./file-sources.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, ConsistencyError, DependencyCycleError, FileNotFoundError } from '../errors.js';
import { castTypes } from './cast.js';
import { absPath } from './canonical-values.js';
import { canonicalFile } from './canonical.js';
import { checkConsistency, type ConsistencyMode } from './consistency.js';
import {
  checkProjectName,
  combineEnv,
  composeFileFromEnv,
  discoverFiles,
  envFilesFor,
  nameFromDirectory,
  readEnvFiles,
  type Env,
} from './environment.js';
import { finalizeProject } from './finalize.js';
import { resolveFileSources } from './file-sources.js';
import { interpolateTree } from './interpolate.js';
import { mergeValue, untag } from './merge.js';
import { applyProfiles } from './profiles.js';
import type { LoadedProject, Project } from './types.js';
import { validateSchema, type TypeIssue } from './validate.js';
import { isPlainObject, parseYaml, type ParsedYaml } from './yaml.js';

export interface LoadOptions {
  /** Working directory (default: process.cwd()). */
  readonly cwd?: string;
  /** `-f` files, in order; `-` reads standard input. */
  readonly files?: readonly string[];
  /** Supplies standard input for `-f -`. */
  readonly readStdin?: () => string;
  readonly projectDirectory?: string;
  /** `-p` */
  readonly projectName?: string;
  /** `--env-file`, repeatable. */
  readonly envFiles?: readonly string[];
  /** `--profile`, repeatable (else COMPOSE_PROFILES). */
  readonly profiles?: readonly string[];
  /** Services named on the command line: their profiles are enabled. */
  readonly services?: readonly string[];
  /** The shell environment (default: process.env). */
  readonly env?: Env;
  /** false = `--no-interpolate`. */
  readonly interpolate?: boolean;
  /**
   * 'warn' reports consistency problems as warnings instead of failing, except an undefined network (docker
   * compose refuses the project) and dependency cycles; 'off' (`--no-consistency`) warns for those too, except cycles.
   */
  readonly consistency?: ConsistencyMode;
  readonly onWarning?: (message: string) => void;
  /** false: services' env files are not read into their `environment` (`config --no-env-resolution`). */
  readonly resolveEnvFiles?: boolean;
  /** false: relative paths are kept as written (`config --no-path-resolution`); files are still read from them. */
  readonly resolvePaths?: boolean;
}

type Obj = Record<string, unknown>;

interface FileContext {
  readonly baseDir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly includeStack: readonly string[];
}

export async function loadProject(options: LoadOptions = {}): Promise<LoadedProject> {
  return loadProjectSync(options);
}

export function loadProjectSync(options: LoadOptions = {}): LoadedProject {
  const warnings: string[] = [];
  const warn = (msg: string): void => {
    if (warnings.includes(msg)) return;
    warnings.push(msg);
    options.onWarning?.(msg);
  };
  const cwd = resolve(options.cwd ?? process.cwd());
  const shell: Env = options.env ?? process.env;

  // Files: -f, else COMPOSE_FILE (from the shell or the .env of the working/project directory), else discovery.
  const earlyDir = options.projectDirectory ? resolve(cwd, options.projectDirectory) : cwd;
  let files = options.files && options.files.length > 0 ? [...options.files] : undefined;
  if (!files) {
    const early = combineEnv(shell, readEnvFiles(envFilesFor(cwd, earlyDir, options.envFiles, shell), shell));
    const fromEnv = composeFileFromEnv(early);
    files = fromEnv ? fromEnv.map((f) => resolve(earlyDir, f)) : discoverFiles(earlyDir, warn);
  }
  const firstReal = files.find((f) => f !== '-');
  const projectDir = options.projectDirectory
    ? resolve(cwd, options.projectDirectory)
    : firstReal && files[0] !== '-'
      ? dirname(resolve(cwd, firstReal))
      : cwd;

  const envFiles = envFilesFor(cwd, projectDir, options.envFiles, shell);
  const env: Record<string, string> = combineEnv(shell, readEnvFiles(envFiles, shell));
  const interpolate = options.interpolate !== false;

  // Read and parse every file once.
  const sources: { path: string; display: string; parsed: ParsedYaml }[] = files.map((f) => {
    if (f === '-') {
      const text = options.readStdin ? options.readStdin() : readFileSync(0, 'utf8');
      return { path: resolve(projectDir, 'stdin'), display: '(stdin)', parsed: parseYaml(text, '(stdin)') };
    }
    const path = resolve(cwd, f);
    return { path, display: path, parsed: parseYaml(readText(path), path) };
  });

  // Project name: -p > COMPOSE_PROJECT_NAME > last `name:` > directory. It is then visible to interpolation.
  let name: string;
  if (options.projectName) name = checkProjectName(options.projectName, '-p');
  else if (env.COMPOSE_PROJECT_NAME) name = checkProjectName(env.COMPOSE_PROJECT_NAME, 'COMPOSE_PROJECT_NAME');
  else {
    let fromFile: string | undefined;
    for (const s of sources) {
      const data = s.parsed.data;
      if (isPlainObject(data) && data.name !== undefined && data.name !== null) {
        const v = interpolate ? interpolateTree({ name: data.name }, lookupIn(env), s.parsed) : { name: data.name };
        const n = String((v as Obj).name ?? '');
        if (n !== '') fromFile = n;
      }
    }
    name = fromFile !== undefined ? checkProjectName(fromFile, '`name:` in the compose file') : nameFromDirectory(projectDir);
  }
  if (env.COMPOSE_PROJECT_NAME === undefined) env.COMPOSE_PROJECT_NAME = name;

  const loader = new FileLoader(env, interpolate, warn, options.resolvePaths !== false);
  let merged: Obj = {};
  sources.forEach((s) => {
    const model = loader.loadParsed(s.parsed, { baseDir: projectDir, env, includeStack: [s.path] });
    merged = mergeValue(merged, model, []) as Obj;
  });
  merged = untag(merged) as Obj;
  delete merged.include;
  merged.name = name;

  const lenient = options.consistency === 'warn' || options.consistency === 'off';
  const finalized = finalizeProject(merged, {
    env,
    home: env.HOME ?? shell.HOME ?? '/',
    workingDir: projectDir,
    locate: (path) =>
      locateIn(
        sources.map((s) => s.parsed),
        path,
      ),
    ...(lenient ? { missingFile: (msg: string) => warn(msg) } : {}),
    ...(options.resolveEnvFiles === false ? { readEnvFiles: false } : {}),
    ...(options.resolvePaths === false ? { resolvePaths: false } : {}),
  });
  const profiles =
    options.profiles && options.profiles.length > 0
      ? [...options.profiles]
      : (env.COMPOSE_PROFILES ?? '')
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
  let { project, disabled } = applyProfiles(finalized as unknown as Project, profiles, options.services ?? []);
  if (lenient && profiles.length === 0 && Object.keys(project.services).length === 0 && Object.keys(disabled).length > 0) {
    // Rendering only (`config`): a file whose every service sits behind a profile would render empty.
    warn(`every service is behind a profile and none is enabled: showing all of them (choose with --profile)`);
    ({ project, disabled } = applyProfiles(finalized as unknown as Project, ['*'], []));
  }
  checkConsistency(project, {
    mode: options.consistency ?? 'error',
    warn,
    disabled,
    locate: (path) =>
      locateIn(
        sources.map((s) => s.parsed),
        path,
      ),
  });
  // Secrets' and configs' `environment:` sources: their values from this environment, now (./file-sources.ts).
  project = resolveFileSources(project, env);
  return {
    project,
    meta: {
      workingDir: projectDir,
      configFiles: sources.map((s) => s.display),
      environment: env,
      envFiles,
      disabledServices: disabled,
      profiles,
      warnings,
    },
  };
}

function readText(path: string, from?: { file: string }): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileNotFoundError(`file not found: ${path}`, from);
    if (code === 'EISDIR') throw new ConfigError('TSC_FILE', `${path} is a directory, not a compose file`, from);
    throw new ConfigError('TSC_FILE', `cannot read ${path}: ${(e as Error).message}`, from);
  }
}

const lookupIn =
  (env: Readonly<Record<string, string>>) =>
  (name: string): string | undefined =>
    env[name];

/** Finds a data path in the files, last file first (the one whose value won the merge). */
function locateIn(parsed: readonly ParsedYaml[], path: readonly (string | number)[]) {
  for (let i = parsed.length - 1; i >= 0; i--) {
    const pos = parsed[i]!.locate(path);
    if (pos.line !== undefined) return pos;
  }
  return { file: parsed[0]?.file ?? 'compose.yaml' };
}

/** Loads single files through the per-file phases, with extends and include resolved. */
class FileLoader {
  private readonly cache = new Map<string, { parsed: ParsedYaml; model: Obj; loading: boolean }>();

  constructor(
    private readonly env: Readonly<Record<string, string>>,
    private readonly interpolate: boolean,
    private readonly warn: (msg: string) => void,
    private readonly resolvePaths: boolean = true,
  ) {}

  /** Interpolate → cast → validate → canonical → extends → include. */
  loadParsed(parsed: ParsedYaml, ctx: FileContext): Obj {
    let data = parsed.data;
    if (data === null || data === undefined) data = {};
    if (!isPlainObject(data)) throw new ConfigError('TSC_SCHEMA', 'top-level object must be a mapping', parsed.locate([]));
    // As compose-go, values are cast to their types as part of interpolation; one that does not convert (a bad
    // boolean) fails the load, reported with the file's schema errors so that one run shows them all.
    const typeIssues: TypeIssue[] = [];
    if (this.interpolate)
      data = castTypes(interpolateTree(data, lookupIn(ctx.env), parsed, this.warn), {
        onWarning: this.warn,
        onError: (path, message) => typeIssues.push({ path, message }),
      });
    validateSchema(data, parsed, typeIssues);
    if (isPlainObject(data) && data.version !== undefined)
      this.warn(`${parsed.file}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`);
    const model = canonicalFile(data, {
      baseDir: ctx.baseDir,
      home: ctx.env.HOME ?? '/',
      source: parsed,
      ...(this.resolvePaths ? {} : { resolvePaths: false }),
    });
    this.resolveExtends(model, parsed, ctx);
    return this.resolveIncludes(model, parsed, ctx);
  }

  /** Loads another file whose relative paths resolve against its own directory (extends targets). */
  private loadOther(path: string, from: { file: string; line?: number; col?: number }, ctx: FileContext): { parsed: ParsedYaml; model: Obj } {
    const cached = this.cache.get(path);
    if (cached?.loading) throw new DependencyCycleError([...ctx.includeStack, path], 'circular reference with extends');
    if (cached) return cached;
    const parsed = parseYaml(readText(path, from), path);
    const entry = { parsed, model: {} as Obj, loading: true };
    this.cache.set(path, entry);
    entry.model = this.loadParsed(parsed, { ...ctx, baseDir: dirname(path), includeStack: [...ctx.includeStack, path] });
    entry.loading = false;
    return entry;
  }

  private resolveExtends(model: Obj, parsed: ParsedYaml, ctx: FileContext): void {
    const services = isPlainObject(model.services) ? model.services : undefined;
    if (!services) return;
    const done = new Set<string>();
    const resolveOne = (name: string, stack: string[]): Obj => {
      const svc = services[name];
      if (!isPlainObject(svc)) return {};
      if (done.has(name) || svc.extends === undefined) return svc;
      const key = `${parsed.file}#${name}`;
      if (stack.includes(key))
        throw new DependencyCycleError(
          [...stack, key].map((k) => k.split('#')[1]!),
          'circular reference with extends',
        );
      const ext = svc.extends;
      const spec = typeof ext === 'string' ? { service: ext } : isPlainObject(ext) ? ext : {};
      const baseName = String(spec.service);
      const pos = parsed.locate(['services', name, 'extends']);
      let base: Obj;
      if (spec.file !== undefined && spec.file !== null) {
        const file = absPath(String(spec.file), {
          baseDir: dirname(parsed.file === '(stdin)' ? resolve(ctx.baseDir, 'x') : parsed.file),
          home: ctx.env.HOME ?? '/',
        });
        const other = this.loadOther(file, pos, ctx);
        const otherServices = isPlainObject(other.model.services) ? other.model.services : {};
        if (!isPlainObject(otherServices[baseName]))
          throw new ConsistencyError(`cannot extend service ${JSON.stringify(name)}: service ${JSON.stringify(baseName)} not found in ${file}`, pos);
        base = otherServices[baseName];
      } else {
        if (!isPlainObject(services[baseName]))
          throw new ConsistencyError(`cannot extend service ${JSON.stringify(name)}: service ${JSON.stringify(baseName)} not found`, pos);
        base = resolveOne(baseName, [...stack, key]);
      }
      const { extends: _ignored, ...own } = svc;
      const { extends: _baseExt, ...baseOwn } = base;
      const merged = mergeValue(baseOwn, own, ['services', name]) as Obj;
      services[name] = merged;
      done.add(name);
      return merged;
    };
    for (const name of Object.keys(services)) resolveOne(name, []);
  }

  private resolveIncludes(model: Obj, parsed: ParsedYaml, ctx: FileContext): Obj {
    const include = model.include;
    if (!Array.isArray(include) || include.length === 0) {
      delete model.include;
      return model;
    }
    delete model.include;
    const fileDir = parsed.file === '(stdin)' ? ctx.baseDir : dirname(parsed.file);
    const home = ctx.env.HOME ?? '/';
    let imported: Obj = {};
    const origin = new Map<string, string>();
    include.forEach((item, i) => {
      const pos = parsed.locate(['include', i]);
      const spec = typeof item === 'string' ? { path: item } : isPlainObject(item) ? item : {};
      const paths = (Array.isArray(spec.path) ? spec.path : [spec.path]).map((p) => absPath(String(p), { baseDir: fileDir, home }));
      for (const p of paths) {
        if (ctx.includeStack.includes(p)) throw new DependencyCycleError([...ctx.includeStack, p], 'include cycle detected');
      }
      const projectDir =
        spec.project_directory !== undefined ? absPath(String(spec.project_directory), { baseDir: fileDir, home }) : dirname(paths[0]!);
      const envFiles =
        spec.env_file !== undefined
          ? (Array.isArray(spec.env_file) ? spec.env_file : [spec.env_file]).map((f) => absPath(String(f), { baseDir: fileDir, home }))
          : envFilesFor(projectDir, projectDir, undefined, {});
      const env = combineEnv(ctx.env, readEnvFiles(envFiles, ctx.env));
      let sub: Obj = {};
      for (const p of paths) {
        const subParsed = parseYaml(readText(p, pos), p);
        const loaded = this.loadParsed(subParsed, { baseDir: projectDir, env, includeStack: [...ctx.includeStack, p] });
        sub = mergeValue(sub, loaded, []) as Obj;
      }
      imported = this.combineImported(imported, untag(sub) as Obj, paths[0]!, origin, parsed);
    });
    // The including file's own definitions may not redefine imported ones differently.
    for (const section of ['services', 'networks', 'volumes', 'secrets', 'configs', 'models']) {
      const own = isPlainObject(model[section]) ? (model[section] as Obj) : undefined;
      const imp = isPlainObject(imported[section]) ? (imported[section] as Obj) : undefined;
      if (!own || !imp) continue;
      for (const key of Object.keys(own)) {
        if (key in imp && JSON.stringify(imp[key]) !== JSON.stringify(own[key]))
          throw new ConsistencyError(
            `${section}.${key} conflicts with imported resource ${section}.${key} defined in ${origin.get(`${section}.${key}`) ?? 'an included file'}`,
            parsed.locate([section, key], true),
          );
      }
    }
    const out: Obj = { ...imported };
    for (const [k, v] of Object.entries(model)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? { ...(out[k] as Obj), ...v } : v;
    return out;
  }

  private combineImported(into: Obj, sub: Obj, file: string, origin: Map<string, string>, parsed: ParsedYaml): Obj {
    const out: Obj = { ...into };
    for (const [section, value] of Object.entries(sub)) {
      if (section === 'name') continue;
      if (!isPlainObject(value)) {
        if (!(section in out)) out[section] = value;
        continue;
      }
      const target: Obj = isPlainObject(out[section]) ? { ...(out[section] as Obj) } : {};
      for (const [key, def] of Object.entries(value)) {
        const id = `${section}.${key}`;
        if (key in target && JSON.stringify(target[key]) !== JSON.stringify(def))
          throw new ConsistencyError(
            `imported resource ${id} defined in ${file} conflicts with another resource defined in ${origin.get(id) ?? 'another included file'}`,
            parsed.locate(['include']),
          );
        target[key] = def;
        origin.set(id, file);
      }
      out[section] = target;
    }
    return out;
  }
}

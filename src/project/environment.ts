/**
 * Files and environment, as docker compose finds them: compose file discovery (walking up parent
 * directories), the automatic override file, `COMPOSE_FILE` with `COMPOSE_PATH_SEPARATOR`, the project
 * directory, `.env` / `--env-file`, and the project name.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { FileNotFoundError, UsageError } from '../errors.js';
import { readDotenvFile } from './dotenv.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_FILENAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const OVERRIDE_FILENAMES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The nearest directory from `dir` up that holds a compose file, with the compose file names found there. */
export function findComposeDir(dir: string): { dir: string; found: string[] } | undefined {
  let current = resolve(dir);
  for (;;) {
    const found = DEFAULT_FILENAMES.filter((f) => isFile(join(current, f)));
    if (found.length > 0) return { dir: current, found };
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** Finds the compose file (and its override) in `dir` or the nearest parent that has one. */
export function discoverFiles(dir: string, warn: (msg: string) => void): string[] {
  const hit = findComposeDir(dir);
  if (hit) {
    const { dir: current, found } = hit;
    if (found.length > 1)
      warn(`Found multiple config files with supported names: ${found.map((f) => join(current, f)).join(', ')}\nUsing ${join(current, found[0]!)}`);
    const files = [join(current, found[0]!)];
    const override = OVERRIDE_FILENAMES.find((f) => isFile(join(current, f)));
    if (override) files.push(join(current, override));
    return files;
  }
  throw new FileNotFoundError(
    `no configuration file provided: not found (looked for ${DEFAULT_FILENAMES.join(', ')} in ${resolve(dir)} and its parents)`,
    undefined,
    {
      hint: 'Run tscompose in a directory with a compose.yaml, or pass one with -f FILE.',
    },
  );
}

/** Reads env files; later files override earlier ones; values may refer to the shell environment. */
export function readEnvFiles(files: readonly string[], shell: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of files) {
    const vars = readDotenvFile(file, (name) => shell[name] ?? out[name]);
    Object.assign(out, vars);
  }
  return out;
}

/** The interpolation environment: the shell wins over env files. */
export function combineEnv(shell: Env, fromFiles: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...fromFiles };
  for (const [k, v] of Object.entries(shell)) if (v !== undefined) out[k] = v;
  return out;
}

/** The env files in force: `--env-file` (relative to the working directory) or `<project dir>/.env`. */
export function envFilesFor(cwd: string, projectDir: string, explicit: readonly string[] | undefined, shell: Env): string[] {
  if (explicit && explicit.length > 0) {
    return explicit.map((f) => {
      const p = resolve(cwd, f);
      if (!existsSync(p)) throw new FileNotFoundError(`env file ${p} not found`, { file: p });
      return p;
    });
  }
  const fromEnv = shell.COMPOSE_ENV_FILES;
  if (fromEnv)
    return fromEnv
      .split(',')
      .filter(Boolean)
      .map((f) => resolve(cwd, f));
  const disabled = ['1', 'true'].includes((shell.COMPOSE_DISABLE_ENV_FILE ?? '').toLowerCase());
  const dotenv = join(projectDir, '.env');
  return !disabled && isFile(dotenv) ? [dotenv] : [];
}

/** `COMPOSE_FILE` split by `COMPOSE_PATH_SEPARATOR` (default the OS path delimiter). */
export function composeFileFromEnv(env: Env): string[] | undefined {
  const v = env.COMPOSE_FILE;
  if (!v) return undefined;
  return v.split(env.COMPOSE_PATH_SEPARATOR || delimiter).filter(Boolean);
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;

/** Lowercase, keep [a-z0-9_-], drop leading `_`/`-` (compose-go NormalizeProjectName). */
export function normalizeProjectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '');
}

/** An explicit name (-p, COMPOSE_PROJECT_NAME, `name:`) must already be normal. */
export function checkProjectName(name: string, from: string): string {
  if (!NAME_RE.test(name))
    throw new UsageError(
      `invalid project name ${JSON.stringify(name)} (from ${from}): must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`,
    );
  return name;
}

export function nameFromDirectory(dir: string): string {
  const n = normalizeProjectName(basename(resolve(dir)));
  return n === '' ? 'default' : n;
}

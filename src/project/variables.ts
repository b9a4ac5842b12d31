/**
 * `config --variables`: the variables a compose model uses, with their default value, their alternate value
 * (`${VAR:+alt}`) and whether they are required (`${VAR:?err}`), as docker compose prints them (compose-go's
 * `template/variables.go` ExtractVariables over the model loaded without interpolation, printed by
 * docker/compose `cmd/compose/config.go` runVariables as a table, JSON or YAML).
 *
 * The model here is the compose files' YAML as written (the -f files, or those COMPOSE_FILE or discovery names),
 * with the files they `include:` or `extends:` from; uninterpolated values need not be valid yet, so no phase
 * of the loader past YAML parsing runs. Only values are scanned, never keys, as compose-go does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { dumpYaml } from './yaml-scalars.js';
import { combineEnv, composeFileFromEnv, discoverFiles, envFilesFor, readEnvFiles, type Env } from './environment.js';
import { firstClosingBrace } from './interpolate.js';
import type { LoadOptions } from './load.js';
import { isPlainObject, parseYaml } from './yaml.js';

export interface Variable {
  readonly name: string;
  readonly defaultValue: string;
  readonly presenceValue: string;
  readonly required: boolean;
}

/** compose-go's template.DefaultPattern: `$$`, `$name`, `${braced...}` or an invalid `${`. */
const PATTERN = /\$(?:(\$)|([_a-z][_a-z0-9]*)|\{(?:([_a-z][_a-z0-9]*(?::?[-+?](.*))?)\}|()))/gi;

/** Every variable in the string values of `value`, by name; a later use of a name replaces an earlier one. */
export function extractVariables(value: unknown, into: Map<string, Variable> = new Map()): Map<string, Variable> {
  if (typeof value === 'string') for (const v of variablesIn(value)) into.set(v.name, v);
  else if (Array.isArray(value)) for (const v of value) extractVariables(v, into);
  else if (isPlainObject(value)) for (const v of Object.values(value)) extractVariables(v, into);
  return into;
}

/** The variables of one string, nested defaults and alternates included (compose-go's extractVariable). */
export function variablesIn(s: string): Variable[] {
  const out: Variable[] = [];
  for (const m of s.matchAll(PATTERN)) {
    if (m[1] !== undefined) continue; // `$$`
    let val = m[2] ?? '';
    if (val === '') {
      val = m[3] ?? '';
      const whole = m[0];
      const close = firstClosingBrace(whole);
      if (close > 0) {
        val = whole.slice(2, close);
        if (whole.length > close) out.push(...variablesIn(whole.slice(close + 1)));
      }
    }
    const op = val.search(/[^A-Za-z0-9_]/);
    let name = val;
    let defaultValue = '';
    let presenceValue = '';
    let required = false;
    if (op > 0) {
      name = val.slice(0, op);
      const rest = val.slice(op);
      if (rest.startsWith(':?') || rest.startsWith('?')) required = true;
      else if (rest.startsWith(':-')) defaultValue = rest.slice(2);
      else if (rest.startsWith('-')) defaultValue = rest.slice(1);
      else if (rest.startsWith(':+')) presenceValue = rest.slice(2);
      else if (rest.startsWith('+')) presenceValue = rest.slice(1);
    }
    // compose-go records an invalid `${` as a variable without a name; there is nothing to print for it.
    if (name !== '') out.push({ name, defaultValue, presenceValue, required });
    if (defaultValue !== '') out.push(...variablesIn(defaultValue));
    if (presenceValue !== '') out.push(...variablesIn(presenceValue));
  }
  return out;
}

/** The compose files the loader would read for `options` (the -f files, COMPOSE_FILE, or discovery), absolute. */
export function composeFiles(options: LoadOptions, warn: (msg: string) => void = () => {}): string[] {
  const cwd = resolve(options.cwd ?? process.cwd());
  const shell: Env = options.env ?? process.env;
  if (options.files && options.files.length > 0) return options.files.map((f) => (f === '-' ? f : resolve(cwd, f)));
  const dir = options.projectDirectory ? resolve(cwd, options.projectDirectory) : cwd;
  const env = combineEnv(shell, readEnvFiles(envFilesFor(cwd, dir, options.envFiles, shell), shell));
  const fromEnv = composeFileFromEnv(env);
  return fromEnv ? fromEnv.map((f) => resolve(dir, f)) : discoverFiles(dir, warn);
}

/**
 * The variables of the files `options` names and of the files they include or extend (those whose path is
 * written without a variable), in file order.
 */
export function modelVariables(options: LoadOptions, warn?: (msg: string) => void): Map<string, Variable> {
  const vars = new Map<string, Variable>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = file === '-' ? (options.readStdin ? options.readStdin() : readFileSync(0, 'utf8')) : readFileSync(file, 'utf8');
    const data = parseYaml(text, file === '-' ? '(stdin)' : file).data;
    extractVariables(data, vars);
    const base = file === '-' ? resolve(options.cwd ?? process.cwd()) : dirname(file);
    for (const ref of referencedFiles(data)) {
      const path = isAbsolute(ref) ? ref : resolve(base, ref);
      if (existsSync(path)) visit(path);
    }
  };
  for (const f of composeFiles(options, warn)) visit(f);
  return vars;
}

/** The `include:` paths and `extends.file`s of a file, those written without a variable. */
function referencedFiles(data: unknown): string[] {
  if (!isPlainObject(data)) return [];
  const out: string[] = [];
  for (const item of Array.isArray(data.include) ? data.include : []) {
    const paths = typeof item === 'string' ? [item] : isPlainObject(item) ? (Array.isArray(item.path) ? item.path : [item.path]) : [];
    for (const p of paths) if (typeof p === 'string') out.push(p);
  }
  for (const svc of Object.values(isPlainObject(data.services) ? data.services : {})) {
    if (isPlainObject(svc) && isPlainObject(svc.extends) && typeof svc.extends.file === 'string') out.push(svc.extends.file);
  }
  return out.filter((p) => !p.includes('$'));
}

/**
 * The variables as docker compose prints them: `table` (NAME REQUIRED DEFAULT VALUE ALTERNATE VALUE, in columns
 * as Go's tabwriter with a minimum width of 20 and a padding of 3; sorted by name, where docker compose's order
 * is its map's), `json` (Go's field names, 4-space indent, then an empty line) or `yaml` (lowercased field names).
 */
export function formatVariables(vars: ReadonlyMap<string, Variable>, format: 'table' | 'json' | 'yaml'): string {
  const sorted = [...vars.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (format === 'json') {
    const obj: Record<string, unknown> = {};
    for (const v of sorted) obj[v.name] = { Name: v.name, DefaultValue: v.defaultValue, PresenceValue: v.presenceValue, Required: v.required };
    return JSON.stringify(obj, null, 4) + '\n\n';
  }
  if (format === 'yaml') {
    const obj: Record<string, unknown> = {};
    for (const v of sorted) obj[v.name] = { name: v.name, defaultvalue: v.defaultValue, presencevalue: v.presenceValue, required: v.required };
    return dumpYaml(obj, { indent: 4, quote: 'double' });
  }
  const rows = [
    ['NAME', 'REQUIRED', 'DEFAULT VALUE', 'ALTERNATE VALUE'],
    ...sorted.map((v) => [v.name, String(v.required), v.defaultValue, v.presenceValue]),
  ];
  return tabwriter(rows, 20, 3);
}

/** Go's text/tabwriter for cells ended by a tab: every column but the last padded to max(minWidth, width + padding). */
function tabwriter(rows: readonly (readonly string[])[], minWidth: number, padding: number): string {
  const cols = Math.max(...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < cols - 1; c++) widths.push(Math.max(minWidth, ...rows.map((r) => (r[c] ?? '').length + padding)));
  return rows.map((r) => r.map((cell, c) => (c < cols - 1 ? cell.padEnd(widths[c]!) : cell)).join('') + '\n').join('');
}

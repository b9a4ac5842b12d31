/**
 * The CLI's module structure: no import cycle among src/cli's modules (static, type-only and dynamic imports all
 * count), and no source file over ~500 lines. The import boundaries themselves are ESLint's (scripts/eslint-layers.mjs).
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'src/cli');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const IMPORT = /(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]|import\(\s*[`'"](\.[^`'"]+)[`'"]\s*\)/g;

/** file → the src/cli files it imports. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of sources(cli)) {
    const deps = [...readFileSync(f, 'utf8').matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
    for (const d of deps) if (d.includes('${')) throw new Error(`${relative(root, f)}: computed import ${d}`);
    g.set(
      f,
      deps.map((d) => resolve(dirname(f), d.replace(/\.js$/, '.ts'))).filter((d) => d.startsWith(cli)),
    );
  }
  return g;
}

/** One cycle as a list of files, or undefined. */
function findCycle(g: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): string[] | undefined => {
    if (state.get(f) === 'done') return undefined;
    if (state.get(f) === 'open') return [...path.slice(path.indexOf(f)), f];
    state.set(f, 'open');
    path.push(f);
    for (const d of g.get(f) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    path.pop();
    state.set(f, 'done');
    return undefined;
  };
  for (const f of g.keys()) {
    const c = visit(f);
    if (c) return c;
  }
  return undefined;
}

describe('src/cli structure', () => {
  test('no import cycle', () => {
    const g = graph();
    expect(g.size).toBeGreaterThan(30);
    expect(findCycle(g)?.map((f) => relative(root, f))).toBeUndefined();
  });

  test('the cycle finder finds one', () => {
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual(['a', 'b', 'c', 'a']);
  });

  test('no source file over 500 lines', () => {
    const long = sources(cli).filter((f) => readFileSync(f, 'utf8').split('\n').length > 500);
    expect(long.map((f) => relative(root, f))).toEqual([]);
  });
});

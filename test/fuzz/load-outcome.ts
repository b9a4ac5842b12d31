/**
 * Running one input of the loader fuzz test (../fuzz.test.ts): `runOne` loads it and classifies the outcome (loaded,
 * TsComposeError, another exception with a signature, or a loaded value of the wrong shape); `shrink` reduces a
 * failing input while it fails the same way.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsComposeError } from '../../src/errors.js';
import { loadProjectSync } from '../../src/project/load.js';

export type Outcome =
  { kind: 'ok' } | { kind: 'tscompose'; code: string } | { kind: 'bad'; signature: string; detail: string } | { kind: 'shape'; detail: string };

export function runOne(dir: string, text: string): Outcome {
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, text);
  try {
    const loaded = loadProjectSync({ cwd: dir, env: { HOME: dir }, files: [file] });
    const p = loaded?.project as unknown;
    if (!p || typeof p !== 'object' || typeof (p as { services?: unknown }).services !== 'object' || (p as { services?: unknown }).services === null)
      return { kind: 'shape', detail: `loaded value has no services object: ${JSON.stringify(p)?.slice(0, 200)}` };
    return { kind: 'ok' };
  } catch (e) {
    if (e instanceof TsComposeError) return { kind: 'tscompose', code: e.code };
    const err = e instanceof Error ? e : new Error(`non-Error thrown: ${String(e)}`);
    const frames = (err.stack ?? '')
      .split('\n')
      .filter((l) => l.trim().startsWith('at '))
      .map((l) => l.trim());
    const top = frames[0] ?? '';
    // The first frame in our own code locates the bug better than the top frame (often inside a library).
    const own = frames.find((f) => f.includes('/src/') && !f.includes('node_modules')) ?? top;
    const message = err.message.split(dir).join('<dir>');
    const signature = `${err.constructor.name}: ${message.replace(/\d+/g, 'N').slice(0, 160)} | ${own.replace(/:\d+:\d+\)?$/, '')}`;
    const where = own === top ? top : `${top}\n    ...\n    ${own}`;
    return { kind: 'bad', signature, detail: `${err.constructor.name}: ${message.slice(0, 300)}\n    ${where}` };
  }
}

/** Greedy line-deletion (then character-chunk) shrinking while `stillFails` holds. */
export function shrink(text: string, stillFails: (t: string) => boolean, budgetMs = 3000): string {
  const start = Date.now();
  let lines = text.split('\n');
  for (let chunk = Math.max(1, Math.floor(lines.length / 2)); chunk >= 1; chunk = Math.floor(chunk / 2)) {
    for (let i = 0; i < lines.length && Date.now() - start < budgetMs;) {
      const candidate = [...lines.slice(0, i), ...lines.slice(i + chunk)];
      if (candidate.length > 0 && stillFails(candidate.join('\n'))) lines = candidate;
      else i += chunk;
    }
  }
  let out = lines.join('\n');
  // Shorten very long lines.
  for (let size = Math.floor(out.length / 4); size >= 8 && Date.now() - start < budgetMs; size = Math.floor(size / 2)) {
    for (let i = 0; i + size <= out.length && Date.now() - start < budgetMs;) {
      const candidate = out.slice(0, i) + out.slice(i + size);
      if (stillFails(candidate)) out = candidate;
      else i += size;
    }
  }
  return out;
}

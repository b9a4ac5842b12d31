/** Temporary directory trees for the context tests. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A path's content: text for a file, `{ link }` for a symlink, `{ dir: true }` for an empty directory. */
export type Node = string | { readonly link: string } | { readonly dir: true };

/** Writes `spec` (posix paths → content) under `root`, parents created as needed. */
export function writeTree(root: string, spec: Readonly<Record<string, Node>>): void {
  for (const [rel, node] of Object.entries(spec)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    if (typeof node === 'string') writeFileSync(file, node);
    else if ('link' in node) symlinkSync(node.link, file);
    else mkdirSync(file, { recursive: true });
  }
}

/** A scratch area: `tree(spec)` gives a fresh directory holding `spec`; `remove()` deletes everything. */
export function scratch(prefix: string): { tree: (spec?: Readonly<Record<string, Node>>) => string; remove: () => void } {
  const base = mkdtempSync(path.join(tmpdir(), prefix));
  let n = 0;
  return {
    tree: (spec = {}) => {
      const dir = path.join(base, `t${++n}`);
      mkdirSync(dir);
      writeTree(dir, spec);
      return dir;
    },
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}

/**
 * Extended attributes of a whole tree in one `getfattr -R` run (node has no xattr API; one process per file would
 * be far too slow for a layer of an `apt-get install`). Values come back as raw bytes.
 */
import { spawn } from 'node:child_process';
import { LayerDiffError } from './errors.js';

/** Relative path (`''` for the root) → xattr name → value. Paths without xattrs are absent. */
export type TreeXattrs = Map<string, Map<string, Buffer>>;

/** Undoes getfattr's quoting of a path (`\ooo` for a backslash, control characters, …), on bytes. */
function unquote(b: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x5c && i + 3 < b.length && /^[0-7]{3}$/.test(b.subarray(i + 1, i + 4).toString('latin1'))) {
      out.push(parseInt(b.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    } else out.push(c);
  }
  return Buffer.from(out);
}

function parseValue(s: string): Buffer {
  if (s.startsWith('0x')) return Buffer.from(s.slice(2), 'hex');
  if (s.startsWith('0s')) return Buffer.from(s.slice(2), 'base64');
  if (s.startsWith('"') && s.endsWith('"')) return unquote(Buffer.from(s.slice(1, -1), 'latin1'));
  return Buffer.from(s, 'latin1');
}

/** Parses `getfattr --absolute-names -R -P -h -d -m - -e hex <root>` output; paths relative to `root`. */
export function parseGetfattr(out: Buffer, root: string): TreeXattrs {
  const result: TreeXattrs = new Map();
  const prefix = Buffer.from(root.replace(/\/+$/, ''));
  let current: Map<string, Buffer> | undefined;
  let start = 0;
  while (start < out.length) {
    let end = out.indexOf(0x0a, start);
    if (end < 0) end = out.length;
    const line = out.subarray(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    if (line.subarray(0, 8).toString('latin1') === '# file: ') {
      const p = unquote(line.subarray(8));
      if (!p.subarray(0, prefix.length).equals(prefix)) throw new LayerDiffError('getfattr reported a path outside the tree', p.toString());
      const rel = p.subarray(prefix.length).toString('utf8').replace(/^\/+/, '');
      current = new Map();
      result.set(rel, current);
      continue;
    }
    if (!current) continue;
    const s = line.toString('latin1');
    const eq = s.indexOf('=');
    const name = Buffer.from(eq < 0 ? s : s.slice(0, eq), 'latin1').toString('utf8');
    current.set(name, eq < 0 ? Buffer.alloc(0) : parseValue(s.slice(eq + 1)));
  }
  return result;
}

/** Every xattr below (and of) `root`, symlinks not followed. */
export async function readTreeXattrs(root: string): Promise<TreeXattrs> {
  const child = spawn('getfattr', ['--absolute-names', '-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', root], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => {
    if (err.length < 4096) err += d.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new LayerDiffError(`getfattr failed: ${err.trim() || `exit ${code}`}`, root);
  return parseGetfattr(Buffer.concat(out), root);
}

// An ESLint rule for the project's import boundaries (ARCHITECTURE.md, "Layers"). Each import of a file under src/
// is resolved to its path and checked against the layer rules below; imports of packages and node: are free.
//   src/lib      imports only src/lib and src/util: libraries know nothing of compose, the engine or a runtime
//   src/util     imports only src/util
//   src/project  never imports the engine, a runtime or the CLI
//   src/engine   imports only the runtime port (src/runtime/runtime.ts, spec.ts, info.ts, errors.ts), never an
//                adapter, select.ts or the CLI
//   src/runtime  never imports the engine or the CLI; an adapter never imports another adapter
//   src/cli      never imports an adapter (src/runtime/docker|native|fake): only select.ts and the port
import { dirname, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = resolve(root, 'src');

const ADAPTERS = ['runtime/docker/', 'runtime/native/', 'runtime/fake/'];
/** The runtime port: the Runtime interface, its typed values (what goes in, what comes out) and its errors. */
const PORT = ['runtime/runtime.ts', 'runtime/spec.ts', 'runtime/info.ts', 'runtime/errors.ts', 'runtime/time.ts'];

/** Why `from` (a path under src/, no leading slash) may not import `to`, or undefined when it may. */
export function violation(from, to) {
  const under = (p, ...dirs) => dirs.some((d) => p === d || p.startsWith(d.endsWith('/') || d.endsWith('.ts') ? d : `${d}/`));
  if (under(from, 'lib')) {
    if (!under(to, 'lib', 'util')) return 'a library (src/lib) imports only src/lib and src/util';
  } else if (under(from, 'util')) {
    if (!under(to, 'util')) return 'src/util imports only src/util';
  } else if (under(from, 'project')) {
    if (under(to, 'engine', 'runtime', 'cli')) return 'the loader (src/project) never imports the engine, a runtime or the CLI';
  } else if (under(from, 'engine')) {
    if (under(to, 'cli')) return 'the engine never imports the CLI';
    if (under(to, 'runtime') && !PORT.some((p) => under(to, p)))
      return 'the engine imports only the runtime port (runtime.ts, errors.ts), never an adapter';
  } else if (under(from, 'runtime')) {
    if (under(to, 'engine', 'cli')) return 'a runtime never imports the engine or the CLI';
    const own = ADAPTERS.find((a) => under(from, a));
    const other = ADAPTERS.find((a) => under(to, a));
    if (own && other && own !== other) return 'an adapter never imports another adapter';
  } else if (under(from, 'cli')) {
    if (ADAPTERS.some((a) => under(to, a))) return 'the CLI never imports an adapter: use src/runtime/select.ts';
  }
  return undefined;
}

function check(context, node) {
  const spec = node.source?.value;
  if (typeof spec !== 'string' || !spec.startsWith('.')) return;
  const file = context.filename ?? context.getFilename();
  if (!file.startsWith(src + '/') || /\.test\.ts$|__fixtures__/.test(file)) return;
  const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
  if (!target.startsWith(src + '/')) return;
  const why = violation(relative(src, file), relative(src, target));
  if (why) context.report({ node: node.source, message: `${relative(root, file)} → ${relative(root, target)}: ${why}` });
}

export default {
  rules: {
    boundaries: {
      meta: { type: 'problem', docs: { description: 'import boundaries between the layers of src/' }, schema: [] },
      create: (context) => ({
        ImportDeclaration: (n) => check(context, n),
        ExportNamedDeclaration: (n) => check(context, n),
        ExportAllDeclaration: (n) => check(context, n),
        ImportExpression: (n) => check(context, n),
      }),
    },
  },
};

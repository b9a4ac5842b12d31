#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js and everything it imports, node_modules included) into one
// CommonJS file, dist/tscompose.cjs, which bin/tscompose runs with a V8 code cache (see bin/tscompose).
// Why: a no-op `up` is mostly Node's module loader (resolving, reading and compiling ~150 files); one file
// whose compiled code is cached skips nearly all of it.
//
// Each bundled file keeps its own location for `import.meta.url` (the native runtime finds its helper scripts —
// exit hook, health monitor, DNS resolver — next to its modules in dist/, which stay as they are).
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const outfile = resolve(root, 'dist/tscompose.cjs');

/**
 * `import.meta.url` → the file's own URL, computed from the bundle's location so the package can move. A package
 * named in `inline` that a module loads with `createRequire(import.meta.url)(NAME)` is bundled in instead.
 */
const importMetaUrlFor = (bundleFile, inline = []) => ({
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.(m?js|cjs)$/ }, async (args) => {
      let text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      for (const name of inline) text = text.replaceAll(`createRequire(import.meta.url)('${name}')`, `require('${name}')`);
      const rel = relative(dirname(bundleFile), args.path).split('\\').join('/');
      text = text.replaceAll(
        'import.meta.url',
        `require('node:url').pathToFileURL(require('node:path').join(__dirname, ${JSON.stringify(rel)})).href`,
      );
      return { contents: text, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
});

/**
 * dockerode's BuildKit session (gRPC + protobufjs) and docker-modem's ssh transport are heavy and rarely called
 * (see src/runtime/docker/lazy-deps.ts): leave them out of the bundle; they load from node_modules on first call.
 */
const lazyHeavy = {
  name: 'lazy-heavy',
  setup(b) {
    // buildkit.js (protobufjs) is required inside the function that builds with BuildKit: a plain runtime require.
    b.onResolve({ filter: /^\.\/buildkit(\.js)?$/ }, (args) => {
      if (!/node_modules[\\/]dockerode[\\/]lib$/.test(args.resolveDir)) return undefined;
      return { path: resolve(args.resolveDir, 'buildkit.js'), namespace: 'runtime-require' };
    });
    // @grpc/grpc-js (the BuildKit session of src/runtime/docker/buildkit-session.ts, ~700 KiB): loaded from
    // node_modules by a plain require when a build first needs it.
    b.onResolve({ filter: /^@grpc\/grpc-js$/ }, () => ({
      path: createRequire(import.meta.url).resolve('@grpc/grpc-js'),
      namespace: 'runtime-require',
    }));
    b.onLoad({ filter: /.*/, namespace: 'runtime-require' }, (args) => {
      const rel = relative(dirname(outfile), args.path).split('\\').join('/');
      return { contents: `module.exports = require(require('node:path').join(__dirname, ${JSON.stringify(rel)}));`, loader: 'js' };
    });
    b.onResolve({ filter: /^\.\/session(\.js)?$|^\.\/ssh(\.js)?$/ }, (args) => {
      if (!/node_modules[\\/](dockerode|docker-modem)[\\/]lib$/.test(args.resolveDir)) return undefined;
      const target = resolve(args.resolveDir, args.path.endsWith('.js') ? args.path : `${args.path}.js`);
      return { path: target, namespace: 'lazy-heavy' };
    });
    // src/runtime/docker/lazy-deps.ts does the same for the unbundled build by patching Node's require cache.
    b.onLoad({ filter: /[\\/]runtime[\\/]docker[\\/]lazy-deps\.js$/ }, () => ({ contents: 'export {};', loader: 'js' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-heavy' }, (args) => {
      const rel = relative(dirname(outfile), args.path).split('\\').join('/');
      return {
        contents: `let real; module.exports = function lazy(...a) { real ??= require(require('node:path').join(__dirname, ${JSON.stringify(rel)})); return real.apply(this, a); };`,
        loader: 'js',
      };
    });
  },
};

const result = await build({
  entryPoints: [resolve(root, 'dist/cli/bundle-entry.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  metafile: true,
  // Whitespace and syntax only: identifiers keep their names, so an internal error's stack stays readable.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [lazyHeavy, importMetaUrlFor(outfile)],
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`bundle: ${relative(root, outfile)} (${(bytes / 1024).toFixed(0)} KiB, ${Object.keys(result.metafile.inputs).length} inputs)\n`);
// bin/launch.cjs reads an ASCII bundle as bytes, skipping UTF-8 decoding (~20 ms); esbuild escapes non-ASCII
// characters in strings, but not everywhere (a regular expression's literal characters): say where, so the
// source can spell them as \u escapes. The launcher still reads a non-ASCII bundle correctly, only slower.
const text = await readFile(outfile);
const at = text.findIndex((b) => b > 0x7f);
if (at >= 0) {
  const line = text.subarray(0, at).toString('latin1').split('\n').length;
  process.stderr.write(
    `bundle: warning: non-ASCII byte at line ${line} (${JSON.stringify(text.subarray(Math.max(0, at - 40), at + 10).toString())}): start-up reads it slower\n`,
  );
}

// The helper processes (the DNS resolver, conmon's exit hook, the log keeper, the health monitor), each one CommonJS
// file next to its compiled entry: Node starts one file in about half the time it loads the modules one by one
// (resolver ~75 → ~45 ms with dns-packet in it, exit hook ~85 → ~50, health monitor ~75 → ~40, log keeper
// ~45 → ~28), and the first container start on a new network waits for the resolver. Their launchers run the
// bundle when it is there (src/lib/helper-entry.ts).
const helpers = [
  ['dist/lib/dns/resolver', ['dns-packet']],
  ['dist/runtime/native/monitor/exit-hook', []],
  ['dist/runtime/native/monitor/log-keeper', []],
  ['dist/runtime/native/monitor/health-monitor', []],
];
for (const [base, inline] of helpers) {
  const out = resolve(root, `${base}.cjs`);
  await build({
    entryPoints: [resolve(root, `${base}.js`)],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [importMetaUrlFor(out, inline)],
  });
}
process.stdout.write(`bundle: ${helpers.length} helpers (${helpers.map(([b]) => `${b.slice(5)}.cjs`).join(', ')})\n`);

'use strict';
// Starts the CLI. With a bundle (dist/tscompose.cjs, made by `npm run build`), it compiles that one file with a
// V8 code cache kept per user; otherwise it imports the unbundled build (dist/cli/main.js).
//
// Why: a no-op `tscompose up` is mostly Node's module loader — resolving, reading and compiling ~250 files — and
// V8 compiling the functions it runs. One file whose compiled code comes from a cache skips nearly all of that
// (bench/engine.mjs; README, "Benchmarks"). The cache is V8's own format, checked by V8 against the source and
// the Node version, and rejected caches are rewritten. It lives in $XDG_CACHE_HOME/tscompose (or ~/.cache),
// in a directory only the user can write; TSCOMPOSE_CODE_CACHE=0 turns it off, TSCOMPOSE_NO_BUNDLE=1 runs the
// unbundled build.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const env = process.env;
// bin/tscompose runs `node launch.cjs -- ARGS` so that Node reads none of ARGS as its own option (see there);
// the `--` is not an argument of tscompose.
if (process.argv[2] === '--') process.argv.splice(2, 1);
if (env.TSCOMPOSE_EXTRA_CA_CERTS !== undefined && env.NODE_EXTRA_CA_CERTS === undefined) {
  // bin/tscompose deferred these (see there): processes we start get them as usual.
  env.NODE_EXTRA_CA_CERTS = env.TSCOMPOSE_EXTRA_CA_CERTS;
  env.TSCOMPOSE_EXTRA_CA_CERTS_DEFERRED = '1';
}
delete env.TSCOMPOSE_EXTRA_CA_CERTS;

const bundle = path.join(root, 'dist', 'tscompose.cjs');
const isAscii = require('node:buffer').isAscii ?? (() => false);

function unbundled() {
  const main = path.join(root, 'dist', 'cli', 'main.js');
  if (!fs.existsSync(main)) {
    process.stderr.write(`tscompose: not built yet; run \`npm run build\` in ${root}\n`);
    process.exit(1);
  }
  import(require('node:url').pathToFileURL(main).href).catch((e) => {
    process.stderr.write(`tscompose: ${e && e.stack ? e.stack : e}\n`);
    process.exit(70);
  });
}

/** The few commands whose runs decide what is worth caching; everything else shares one cache. */
const COMMANDS = new Set([
  'up',
  'down',
  'ps',
  'config',
  'logs',
  'exec',
  'run',
  'start',
  'stop',
  'restart',
  'rm',
  'create',
  'image',
  'images',
  'ls',
  'pull',
  'build',
  'kill',
  'port',
  'top',
  'events',
  'wait',
  'cp',
  'pause',
  'unpause',
  'push',
  'version',
]);

/** A cache directory only this user can write, or undefined. */
function cacheDir() {
  if (env.TSCOMPOSE_CODE_CACHE === '0') return undefined;
  const base = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : undefined);
  if (!base || !path.isAbsolute(base)) return undefined;
  const dir = path.join(base, 'tscompose');
  try {
    let st;
    try {
      st = fs.statSync(dir);
    } catch {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      st = fs.statSync(dir);
    }
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * Ends the process as soon as nothing but stdio is left: Node's normal exit frees the heap piece by piece (10-20 ms
 * here, a tenth of a no-change build); exiting skips that. Writes to stdout and stderr are synchronous on Linux
 * (files, pipes and terminals), so nothing written is lost; with any other handle or request pending, the event
 * loop ends on its own as before. TSCOMPOSE_QUICK_EXIT=0 turns it off.
 */
function quickExit(code) {
  if (process.platform !== 'linux' || env.TSCOMPOSE_QUICK_EXIT === '0') return;
  setImmediate(() => {
    const pending = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
    if (pending.length === 0 && process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
  });
}

function run() {
  let source;
  let stat;
  try {
    stat = fs.statSync(bundle);
    // Read as bytes: Node's UTF-8 decoding costs ~20 ms for a file this size, and the bundle is ASCII
    // (scripts/bundle.mjs makes sure), whose bytes are already a one-byte string's contents.
    const bytes = fs.readFileSync(bundle);
    source = isAscii(bytes) ? bytes.latin1Slice(0, bytes.length) : bytes.toString('utf8');
  } catch {
    return unbundled();
  }
  const vm = require('node:vm');
  const dir = cacheDir();
  const command = process.argv.slice(2).find((a) => COMMANDS.has(a)) || 'other';
  const id = `${process.version}-${process.arch}-${stat.size}-${Math.trunc(stat.mtimeMs)}`;
  const cacheFile = dir && path.join(dir, `code-${id}-${command}.bin`);
  let cachedData;
  if (cacheFile) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle, cachedData });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require('node:module').createRequire(bundle), mod, bundle, path.dirname(bundle));
  const saveCache = () => {
    if (!cacheFile || (cachedData && !script.cachedDataRejected)) return;
    try {
      // After the command ran: the cache then holds the functions it compiled, not only the top level.
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(tmp, cacheFile);
      for (const f of fs.readdirSync(dir)) if (f.startsWith('code-') && !f.startsWith(`code-${id}-`)) fs.rmSync(path.join(dir, f), { force: true });
    } catch {
      // a cache is only an optimisation
    }
  };
  mod.exports.main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    saveCache();
    quickExit(code);
  });
}

if (env.TSCOMPOSE_NO_BUNDLE === '1') unbundled();
else run();

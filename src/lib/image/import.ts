/**
 * `docker import` for the native store: a root filesystem tarball (plain, gzip, or xz/bzip2/zstd through the host's
 * decompressor) becomes a one-layer image. The tar goes through the store's own layer path (content.installLayer
 * + layer.ts unpackLayer behind the TarGate of tar-scan.ts, as load-save.ts loads archives), so an entry the
 * scanner refuses (absolute names, `..`, paths through symlinks) fails the import with its LayerRejectedError.
 * The layer is kept as a gzip blob (what push sends), the config says the host's os/architecture, `created`, one
 * history entry whose comment is the message (default `Imported from -`, as dockerd's ImportImage writes it), and
 * `config` is what the `--change` instructions set (parseChanges, as dockerd's BuildFromConfig with the
 * instructions it allows for a commit: builder/dockerfile/builder.go validCommitCommands).
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { CodedError, type CodedErrorOptions } from '../errors.js';
import { LayerContent } from './content.js';
import { sha256 } from './digest.js';
import { UnsupportedCompressionError } from './errors.js';
import { unpackLayer } from './layer.js';
import { StoreLayout } from './layout.js';
import { parsePlatform, platformString } from './platform.js';
import { ImageRecords, makeRecord } from './records.js';
import { normalizeRef } from './reference.js';
import { digestTap, peek, sniffCompression } from './streams.js';
import { MT, type OciContainerConfig, type OciImageConfig } from './types.js';

/** A `--change` docker would refuse: an unknown or unsupported instruction, or bad arguments. */
export class ImportChangeError extends CodedError {
  constructor(message: string, options: CodedErrorOptions = {}) {
    super('TSC_IMAGE_IMPORT_CHANGE', message, {
      hint: 'supported: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL',
      ...options,
    });
  }
}

/** The input is not a tar archive (after decompression). */
export class NotATarError extends CodedError {
  constructor(source: string, detail: string) {
    super('TSC_IMAGE_IMPORT_NOT_TAR', `${source}: not a tar archive (${detail})`, {
      hint: 'image import takes a root filesystem tarball: tar -C rootfs -c . > rootfs.tar',
    });
  }
}

/** A platform other than the host's. */
export class ImportPlatformError extends CodedError {
  constructor(asked: string, host: string) {
    super('TSC_IMAGE_IMPORT_PLATFORM', `image import: platform ${asked} is not supported, only the host's (${host})`);
  }
}

export interface ImportRootfsOptions {
  /** Dockerfile instructions for the config (`CMD ["sh"]`, `ENV A=b`, …), as `docker import --change`. */
  changes?: readonly string[];
  /** The history comment (default `Imported from -`). */
  message?: string;
  /** A `repo[:tag]` for the image. */
  tag?: string;
  /** `os/arch[/variant]`: the host's only. */
  platform?: string;
  /** What the input is called in errors (a file name, `-` for stdin). */
  source?: string;
  signal?: AbortSignal;
  /** `created` (default now). */
  now?: Date;
}

export interface ImportedImage {
  /** `sha256:<hex of the config>`. */
  id: string;
  diffId: string;
  /** The gzip blob of the layer. */
  blob: { digest: string; size: number };
  config: OciImageConfig;
  /** Canonical tag given, if any. */
  tag?: string;
}

// -- --change ------------------------------------------------------------------------------------------------------

const ALLOWED = new Set(['cmd', 'entrypoint', 'env', 'expose', 'label', 'user', 'volume', 'workdir', 'stopsignal']);

/** Variables for expansion: `NAME=value` entries (the config's Env so far). */
type EnvList = readonly string[] | undefined;

function lookup(env: EnvList, name: string): string | undefined {
  const hit = [...(env ?? [])].reverse().find((e) => e.slice(0, e.indexOf('=')) === name);
  return hit === undefined ? undefined : hit.slice(hit.indexOf('=') + 1);
}

/** Expands the `$NAME` / `${NAME}` / `${NAME:-word}` / `${NAME:+word}` at `s[i] === '$'`; the value and the next index. */
function expandAt(s: string, i: number, env: EnvList, what: string): [string, number] {
  if (s[i + 1] === '{') {
    const close = s.indexOf('}', i + 2);
    if (close < 0) throw new ImportChangeError(`${what}: missing '}' in ${JSON.stringify(s)}`);
    const body = s.slice(i + 2, close);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([\s\S]*))?$/.exec(body);
    if (!m) throw new ImportChangeError(`${what}: bad substitution \${${body}}`);
    const v = lookup(env, m[1]!);
    if (m[2] === '-') return [v ? v : m[3]!, close + 1];
    if (m[2] === '+') return [v ? m[3]! : '', close + 1];
    return [v ?? '', close + 1];
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1));
  if (!m) return ['$', i + 1];
  return [lookup(env, m[0]) ?? '', i + 1 + m[0].length];
}

/**
 * Splits shell-like words as BuildKit's shell/lex.go does for ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR and
 * STOPSIGNAL (the subset `--change` needs): whitespace separates, "…" (with \ escapes) and '…' quote, \ escapes
 * outside quotes, and `$NAME`, `${NAME}`, `${NAME:-x}`, `${NAME:+x}` expand from `env` outside single quotes
 * (dockerd's BuildFromConfig expands against the config's Env; CMD and ENTRYPOINT are not expanded).
 */
export function splitWords(s: string, what: string, env?: EnvList): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && i + 1 < s.length) cur += s[++i];
    else if (c === '$') {
      const [v, next] = expandAt(s, i, env, what);
      cur += v;
      i = next - 1;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ImportChangeError(`${what}: unterminated quote in ${JSON.stringify(s)}`);
      cur += s.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') {
        if (s[j] === '\\' && j + 1 < s.length) {
          cur += s[j + 1];
          j += 2;
        } else if (s[j] === '$') {
          const [v, next] = expandAt(s, j, env, what);
          cur += v;
          j = next;
        } else cur += s[j++];
      }
      if (j >= s.length) throw new ImportChangeError(`${what}: unterminated quote in ${JSON.stringify(s)}`);
      i = j;
    } else cur += c;
  }
  if (inWord) out.push(cur);
  return out;
}

/** The JSON (exec) form `["a", "b"]`, or undefined for the shell form. */
function jsonForm(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(rest) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {
    /* not JSON: the shell form, as Docker treats it */
  }
  return undefined;
}

function pairs(rest: string, what: string, legacy: boolean, env: EnvList): [string, string][] {
  const words = splitWords(rest, what, env);
  if (legacy && words.length > 0 && !words[0]!.includes('=')) {
    // `ENV key value…`: the rest of the line after the key is the value.
    const key = words[0]!;
    const value = rest
      .trim()
      .slice(rest.trim().indexOf(key) + key.length)
      .trim();
    if (value === '') throw new ImportChangeError(`${what} names can not be blank and must have a value: ${JSON.stringify(rest)}`);
    return [[key, splitWords(value, what, env).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new ImportChangeError(`${what} requires key=value pairs: ${JSON.stringify(w)}`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function exposed(word: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
  if (!m) throw new ImportChangeError(`EXPOSE: invalid port ${JSON.stringify(word)}`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || to < from) throw new ImportChangeError(`EXPOSE: invalid port range ${JSON.stringify(word)}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  return Array.from({ length: to - from + 1 }, (_, k) => `${from + k}/${proto}`);
}

/** Applies one `--change` instruction to `cfg` (in place). ImportChangeError for what Docker refuses. */
export function applyChange(cfg: OciContainerConfig, line: string): void {
  const trimmed = line.trim();
  const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
  if (!m) throw new ImportChangeError('empty --change');
  const instr = m[1]!.toLowerCase();
  const rest = m[2]!.trim();
  const NAME = instr.toUpperCase();
  // dockerd: `<cmd> is not a valid change command` (builder/dockerfile/builder.go BuildFromConfig).
  if (!ALLOWED.has(instr)) throw new ImportChangeError(`${instr} is not a valid change command`);
  if (rest === '') throw new ImportChangeError(`${NAME} requires at least one argument`);
  switch (instr) {
    case 'cmd':
    case 'entrypoint': {
      const args = jsonForm(rest) ?? ['/bin/sh', '-c', rest];
      if (instr === 'cmd') cfg.Cmd = args;
      else cfg.Entrypoint = args;
      return;
    }
    case 'env': {
      const env = [...(cfg.Env ?? [])];
      for (const [k, v] of pairs(rest, NAME, true, cfg.Env)) {
        const at = env.findIndex((e) => e.slice(0, e.indexOf('=')) === k);
        if (at >= 0) env[at] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      cfg.Env = env;
      return;
    }
    case 'label':
      cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(pairs(rest, NAME, false, cfg.Env)) };
      return;
    case 'expose': {
      const ports = { ...(cfg.ExposedPorts ?? {}) };
      for (const w of splitWords(rest, NAME, cfg.Env)) for (const p of exposed(w)) ports[p] = {};
      cfg.ExposedPorts = ports;
      return;
    }
    case 'volume': {
      const vols = { ...(cfg.Volumes ?? {}) };
      for (const v of jsonForm(rest) ?? splitWords(rest, NAME, cfg.Env)) {
        if (v.trim() === '') throw new ImportChangeError('VOLUME specified can not be an empty string');
        vols[v] = {};
      }
      cfg.Volumes = vols;
      return;
    }
    case 'workdir':
      // Relative to the previous WORKDIR (or /), as Docker's dispatchWorkdir.
      cfg.WorkingDir = posix.resolve(cfg.WorkingDir || '/', splitWords(rest, NAME, cfg.Env).join(' '));
      return;
    case 'user':
      cfg.User = splitWords(rest, NAME, cfg.Env).join(' ');
      return;
    case 'stopsignal': {
      const signal = splitWords(rest, NAME, cfg.Env).join(' ');
      if (!/^(SIG)?[A-Z0-9+-]+$/i.test(signal)) throw new ImportChangeError(`STOPSIGNAL: invalid signal ${JSON.stringify(rest)}`);
      cfg.StopSignal = signal;
      return;
    }
  }
}

/** The container config the `--change` instructions give (in order), as Docker applies them to an empty one. */
export function parseChanges(changes: readonly string[]): OciContainerConfig {
  const cfg: OciContainerConfig = {};
  for (const c of changes) applyChange(cfg, c);
  return cfg;
}

/** Refuses a platform other than the host's (ImportPlatformError). */
export function checkImportPlatform(platform: string | undefined): void {
  if (platform === undefined || platform === '') return;
  const host = parsePlatform();
  const want = parsePlatform(platform);
  if (want.os !== host.os || want.architecture !== host.architecture || (want.variant !== undefined && want.variant !== host.variant)) {
    throw new ImportPlatformError(platform, platformString(host));
  }
}

// -- the tarball -----------------------------------------------------------------------------------------------------

const DECOMPRESSORS = { xz: 'xz', bzip2: 'bzip2', zstd: 'zstd' } as const;

/** The uncompressed tar of `input` (gzip in process; xz, bzip2, zstd through the host's command). */
async function plainTar(input: AsyncIterable<Buffer | Uint8Array | string>, source: string, signal: AbortSignal | undefined): Promise<Readable> {
  const { head, stream } = await peek(input, 6);
  const kind = sniffCompression(head);
  if (kind === 'none') return stream;
  if (kind === 'gzip') {
    const gunzip = createGunzip();
    pipeline(stream, gunzip, signal ? { signal } : {}).catch((e: unknown) => gunzip.destroy(e as Error));
    return gunzip;
  }
  const child = spawn(DECOMPRESSORS[kind], ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const started = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (started) {
    stream.destroy();
    throw new UnsupportedCompressionError(kind, source);
  }
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stdin!.on('error', () => undefined); // the decompressor quitting early shows as its exit status
  pipeline(stream, child.stdin!, signal ? { signal } : {}).catch(() => child.kill('SIGKILL'));
  const out = child.stdout!;
  child.once('close', (code) => {
    if (code !== 0) out.destroy(new NotATarError(source, `${DECOMPRESSORS[kind]} -dc failed: ${stderr.trim() || `exit ${code}`}`));
  });
  return out;
}

/** Whether a 512-byte block is a tar header (its checksum adds up, signed or unsigned) or the all-zero end. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  if (block.every((b) => b === 0)) return true;
  const stored = parseInt(block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 32 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/**
 * Imports a root filesystem tarball into the store at `root` as a one-layer image; tags it when `opts.tag` is set.
 * Errors: NotATarError, ImportChangeError, ImportPlatformError, UnsupportedCompressionError, the scanner's
 * LayerRejectedError, InvalidReferenceError for a bad tag.
 */
export async function importRootfs(
  root: string,
  input: AsyncIterable<Buffer | Uint8Array | string>,
  opts: ImportRootfsOptions = {},
): Promise<ImportedImage> {
  const source = opts.source ?? '-';
  // Everything that can be refused without reading the input first.
  const containerConfig = parseChanges(opts.changes ?? []);
  checkImportPlatform(opts.platform);
  const ref = opts.tag === undefined ? undefined : normalizeRef(opts.tag);
  if (ref?.digest !== undefined) throw new ImportChangeError(`image import: ${opts.tag} names a digest; give a repository[:tag]`);
  const layout = new StoreLayout(root);
  await layout.init();
  const content = new LayerContent(layout);
  const records = new ImageRecords(layout);
  const tmp = layout.scratch('-import');
  await mkdir(tmp);
  try {
    // 1. the uncompressed tar, spooled to scratch (its digest is the DiffID, known only at its end).
    const { head, stream } = await peek(await plainTar(input, source, opts.signal), 512);
    if (!isTarHeader(head)) {
      stream.destroy();
      throw new NotATarError(source, head.length < 512 ? 'shorter than one tar header' : 'no valid tar header at its start');
    }
    const tarFile = join(tmp, 'layer.tar');
    const spool = digestTap(stream, { file: tarFile });
    try {
      for await (const chunk of spool.stream) void chunk;
    } catch (e) {
      if (e instanceof CodedError || (e as Error).name === 'AbortError') throw e;
      throw new NotATarError(source, (e as Error).message);
    }
    const diffId = spool.result.digest!;
    const host = parsePlatform();
    const created = (opts.now ?? new Date()).toISOString();
    const comment = opts.message ?? 'Imported from -';
    const config: OciImageConfig = {
      architecture: host.architecture,
      ...(host.variant ? { variant: host.variant } : {}),
      os: host.os,
      created,
      comment,
      config: containerConfig,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created, comment }],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const id = sha256(configBytes);
    return await layout.withLease([id, diffId], async () => {
      // 2. the layer, through the scanner (load-save.ts's path: installLayer + unpackLayer).
      await content.installLayer(diffId, diffId, undefined, (dir) =>
        unpackLayer(createReadStream(tarFile), dir, {
          expectedDiffId: diffId,
          label: `${source} (layer ${diffId})`,
          ...(opts.signal ? { signal: opts.signal } : {}),
        }),
      );
      // 3. its gzip blob (what push sends and save un-gzips).
      const gzFile = join(tmp, 'layer.tar.gz');
      const gzip = createGzip();
      pipeline(createReadStream(tarFile), gzip).catch((e: unknown) => gzip.destroy(e as Error));
      const packed = digestTap(gzip, { file: gzFile });
      for await (const chunk of packed.stream) void chunk;
      const blob = { digest: packed.result.digest!, size: packed.result.bytes };
      // Listed first, so a gc meanwhile keeps the blob (the lease holds the DiffID, and with it its list).
      await content.addDistribution(diffId, { ...blob, mediaType: MT.dockerLayerGzip });
      await content.putBlobFile(blob.digest, gzFile, true);
      // 4. config, record, tag.
      await content.putBlobBytes(id, configBytes);
      const meta = await content.readLayerMeta(diffId);
      await records.commit(makeRecord(id, config, [meta]), ref ? [ref.canonical] : [], []);
      return { id, diffId, blob, config, ...(ref ? { tag: ref.canonical } : {}) };
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

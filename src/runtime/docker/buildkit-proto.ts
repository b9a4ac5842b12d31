/**
 * The few protobuf messages a BuildKit build through the Engine API needs, read and written by hand (proto3 wire
 * format: varints and length-delimited fields) instead of loading protobufjs and .proto files:
 * - moby.buildkit.v1.StatusResponse (api/services/control/control.proto): the `moby.buildkit.trace` messages of
 *   the build stream — vertexes (steps), statuses (progress of a step's sub-tasks), logs (step output), warnings;
 * - the session services tscompose serves: grpc.health.v1 HealthCheckResponse, moby.filesync.v1
 *   CredentialsRequest/Response (session/auth/auth.proto) and moby.buildkit.secrets.v1
 *   GetSecretRequest/Response (session/secrets/secrets.proto).
 * Unknown fields are skipped, as protobuf readers do.
 */

/** One field of a message: its number, and its value (a varint as a bigint, or the bytes of a length-delimited one). */
type Field = { readonly no: number; readonly varint: bigint } | { readonly no: number; readonly bytes: Buffer };

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new RangeError('protobuf: truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
    if (shift > 70n) throw new RangeError('protobuf: varint too long');
  }
}

/** The fields of a message, in order; fixed32/64 fields are skipped. */
export function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p] = readVarint(buf, pos);
    pos = p;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, q] = readVarint(buf, pos);
      pos = q;
      out.push({ no, varint: v });
    } else if (wire === 2) {
      const [len, q] = readVarint(buf, pos);
      const end = q + Number(len);
      if (end > buf.length) throw new RangeError('protobuf: truncated field');
      out.push({ no, bytes: buf.subarray(q, end) });
      pos = end;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new RangeError(`protobuf: unsupported wire type ${wire}`);
    }
  }
  return out;
}

const str = (f: Field): string => ('bytes' in f ? f.bytes.toString('utf8') : '');
const bytes = (f: Field): Buffer => ('bytes' in f ? f.bytes : Buffer.alloc(0));
const num = (f: Field): number => ('varint' in f ? Number(BigInt.asIntN(64, f.varint)) : 0);

/** google.protobuf.Timestamp as milliseconds since the epoch. */
function timestamp(f: Field): number {
  let seconds = 0;
  let nanos = 0;
  for (const t of readFields(bytes(f))) {
    if (t.no === 1) seconds = num(t);
    else if (t.no === 2) nanos = num(t);
  }
  return seconds * 1000 + nanos / 1e6;
}

export interface Vertex {
  readonly digest: string;
  readonly inputs: readonly string[];
  readonly name: string;
  readonly cached: boolean;
  /** Milliseconds since the epoch; undefined until the step starts / completes. */
  readonly started: number | undefined;
  readonly completed: number | undefined;
  readonly error: string;
}

export interface VertexStatus {
  readonly id: string;
  readonly vertex: string;
  readonly name: string;
  readonly current: number;
  readonly total: number;
  readonly started: number | undefined;
  readonly completed: number | undefined;
}

export interface VertexLog {
  readonly vertex: string;
  readonly timestamp: number | undefined;
  /** 1 stdout, 2 stderr. */
  readonly stream: number;
  readonly msg: Buffer;
}

export interface VertexWarning {
  readonly vertex: string;
  readonly short: string;
}

export interface StatusResponse {
  readonly vertexes: readonly Vertex[];
  readonly statuses: readonly VertexStatus[];
  readonly logs: readonly VertexLog[];
  readonly warnings: readonly VertexWarning[];
}

function vertex(buf: Buffer): Vertex {
  const v = {
    digest: '',
    inputs: [] as string[],
    name: '',
    cached: false,
    started: undefined as number | undefined,
    completed: undefined as number | undefined,
    error: '',
  };
  for (const f of readFields(buf)) {
    if (f.no === 1) v.digest = str(f);
    else if (f.no === 2) v.inputs.push(str(f));
    else if (f.no === 3) v.name = str(f);
    else if (f.no === 4) v.cached = num(f) !== 0;
    else if (f.no === 5) v.started = timestamp(f);
    else if (f.no === 6) v.completed = timestamp(f);
    else if (f.no === 7) v.error = str(f);
  }
  return v;
}

function vertexStatus(buf: Buffer): VertexStatus {
  const s = {
    id: '',
    vertex: '',
    name: '',
    current: 0,
    total: 0,
    started: undefined as number | undefined,
    completed: undefined as number | undefined,
  };
  for (const f of readFields(buf)) {
    if (f.no === 1) s.id = str(f);
    else if (f.no === 2) s.vertex = str(f);
    else if (f.no === 3) s.name = str(f);
    else if (f.no === 4) s.current = num(f);
    else if (f.no === 5) s.total = num(f);
    else if (f.no === 7) s.started = timestamp(f);
    else if (f.no === 8) s.completed = timestamp(f);
  }
  return s;
}

function vertexLog(buf: Buffer): VertexLog {
  const l = { vertex: '', timestamp: undefined as number | undefined, stream: 1, msg: Buffer.alloc(0) as Buffer };
  for (const f of readFields(buf)) {
    if (f.no === 1) l.vertex = str(f);
    else if (f.no === 2) l.timestamp = timestamp(f);
    else if (f.no === 3) l.stream = num(f);
    else if (f.no === 4) l.msg = bytes(f);
  }
  return l;
}

function vertexWarning(buf: Buffer): VertexWarning {
  const w = { vertex: '', short: '' };
  for (const f of readFields(buf)) {
    if (f.no === 1) w.vertex = str(f);
    else if (f.no === 3) w.short = str(f);
  }
  return w;
}

/** Decodes a StatusResponse (the base64 `aux` of a `moby.buildkit.trace` message, once decoded). */
export function decodeStatus(buf: Buffer): StatusResponse {
  const out = { vertexes: [] as Vertex[], statuses: [] as VertexStatus[], logs: [] as VertexLog[], warnings: [] as VertexWarning[] };
  for (const f of readFields(buf)) {
    if (!('bytes' in f)) continue;
    if (f.no === 1) out.vertexes.push(vertex(f.bytes));
    else if (f.no === 2) out.statuses.push(vertexStatus(f.bytes));
    else if (f.no === 3) out.logs.push(vertexLog(f.bytes));
    else if (f.no === 4) out.warnings.push(vertexWarning(f.bytes));
  }
  return out;
}

// -- writing --------------------------------------------------------------------------------------------------------

function varint(n: number | bigint): Buffer {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return Buffer.from(out);
}

/** A length-delimited field (string, bytes, embedded message); omitted when empty, as proto3 does. */
export function bytesField(no: number, value: string | Buffer): Buffer {
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (b.length === 0) return Buffer.alloc(0);
  return Buffer.concat([varint((no << 3) | 2), varint(b.length), b]);
}

/** A varint field (int, enum, bool; not negative); omitted when 0. */
export function varintField(no: number, value: number | bigint): Buffer {
  if (value === 0 || value === 0n) return Buffer.alloc(0);
  return Buffer.concat([varint(no << 3), varint(value)]);
}

/** The string fields of a message by number (the first occurrence of each). */
export function stringFields(buf: Buffer): Map<number, string> {
  const out = new Map<number, string>();
  for (const f of readFields(buf)) if ('bytes' in f && !out.has(f.no)) out.set(f.no, str(f));
  return out;
}

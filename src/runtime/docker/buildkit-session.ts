/**
 * A BuildKit session with the Docker Engine, as the docker CLI and buildx open one for a build (moby's
 * /session endpoint, buildkit session/manager.go): `POST /session` upgraded to h2c, after which the engine is the
 * gRPC client and we are the server on that one connection. The headers say the session's id and name and every
 * gRPC method we serve (`X-Docker-Expose-Session-Grpc-Method`); the build then names the session (`session=<id>`).
 *
 * Served here:
 * - grpc.health.v1.Health/Check: SERVING (the engine checks the session's health every few seconds and drops a
 *   session that fails twice);
 * - moby.filesync.v1.Auth/Credentials: no credentials (anonymous pulls, as the classic builder path sends none);
 * - moby.buildkit.secrets.v1.Secrets/GetSecret: compose `build.secrets`, each read when the build asks for it
 *   (a file's content, or an environment value), NotFound for an unknown id (BuildKit's secretsprovider).
 * - moby.filesync.v1.FileSync/DiffCopy: the build context and the Dockerfile's directory (buildkit-filesync.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { on } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { serveDiffCopy, type SyncedDir } from './buildkit-filesync.js';
import { bytesField, stringFields, varintField } from './buildkit-proto.js';

/** A build secret: its id, and where its value comes from (a file read when asked, or the value itself). */
export interface BuildSecret {
  readonly id: string;
  readonly file?: string | undefined;
  /** The value (taken from the environment variable the compose secret names). */
  readonly env?: string | undefined;
}

export interface BuildSession {
  readonly id: string;
  /** Ends the session (closes the gRPC server and the connection). */
  close(): void;
}

/** BuildKit's limit on a secret's size (session/secrets/secretsprovider: 500 KiB). */
const MAX_SECRET_SIZE = 500 * 1024;

type Handler = (request: Buffer) => Promise<Buffer>;

interface GrpcStatusError extends Error {
  code: number;
  details: string;
}

function grpcError(code: number, message: string): GrpcStatusError {
  return Object.assign(new Error(message), { code, details: message });
}

const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;

/** The value of secret `id` for GetSecret: the file's content or the environment value. */
export async function secretValue(secrets: readonly BuildSecret[], id: string): Promise<Buffer> {
  const s = secrets.find((x) => x.id === id);
  if (s === undefined) throw grpcError(NOT_FOUND, `secret ${id} not found`);
  let data: Buffer;
  if (s.file !== undefined) {
    try {
      data = await readFile(s.file);
    } catch (e) {
      throw grpcError(NOT_FOUND, `secret ${id}: ${(e as Error).message}`);
    }
  } else {
    data = Buffer.from(s.env ?? '', 'utf8');
  }
  if (data.length > MAX_SECRET_SIZE) throw grpcError(INVALID_ARGUMENT, `secret ${id} too big. max size 500KB`);
  return data;
}

/** The session's gRPC methods by path: request bytes → response bytes. */
export function sessionHandlers(secrets: readonly BuildSecret[]): Record<string, Handler> {
  return {
    '/grpc.health.v1.Health/Check': () => Promise.resolve(varintField(1, 1)), // status: SERVING
    '/moby.filesync.v1.Auth/Credentials': () => Promise.resolve(Buffer.alloc(0)), // no Username, no Secret
    '/moby.buildkit.secrets.v1.Secrets/GetSecret': async (req) => {
      const id = stringFields(req).get(1) ?? '';
      return bytesField(1, await secretValue(secrets, id));
    },
  };
}

/** Upgrades `POST /session` to h2c and returns the raw connection. */
function dialSession(docker: Docker, headers: Record<string, string | string[]>, signal?: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const opts = {
      method: 'POST',
      path: '/session',
      hijack: true,
      headers: { Upgrade: 'h2c', ...headers },
      statusCodes: { 101: true, 200: true, 400: 'bad request', 404: 'no such endpoint', 500: 'server error' },
      ...(signal ? { abortSignal: signal } : {}),
    };
    const modem = docker.modem as unknown as { dial: (o: object, cb: (err: Error | null, socket: Duplex | null) => void) => void };
    modem.dial(opts, (err, socket) => (err || !socket ? reject(err ?? new Error('the engine did not upgrade the connection')) : resolve(socket)));
  });
}

export interface SessionOptions {
  readonly secrets?: readonly BuildSecret[] | undefined;
  /** Directories served to the engine by FileSync/DiffCopy (`context`, `dockerfile`). */
  readonly dirs?: Readonly<Record<string, SyncedDir>> | undefined;
  /**
   * Names the engine's copy of the synced directories, kept between builds so that only changes are sent again
   * (the docker CLI: a hash of the context directory).
   */
  readonly sharedKey?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

const DIFF_COPY = '/moby.filesync.v1.FileSync/DiffCopy';

/** Opens a session serving health, (empty) credentials, secrets and directories; rejects when the engine refuses it. */
export async function openSession(docker: Docker, options: SessionOptions = {}): Promise<BuildSession> {
  // gRPC is only needed for BuildKit builds: loaded here, not at start-up.
  const grpc = await import('@grpc/grpc-js');
  const handlers = sessionHandlers(options.secrets ?? []);
  const dirs = options.dirs ?? {};
  const id = randomUUID();
  const methods = [...Object.keys(handlers), ...(Object.keys(dirs).length > 0 ? [DIFF_COPY] : [])];
  const socket = await dialSession(
    docker,
    {
      'X-Docker-Expose-Session-Uuid': id,
      'X-Docker-Expose-Session-Name': 'tscompose',
      'X-Docker-Expose-Session-Sharedkey': options.sharedKey ?? randomBytes(16).toString('hex'),
      'X-Docker-Expose-Session-Grpc-Method': methods,
    },
    options.signal,
  );
  const server = new grpc.Server();
  const identity = (b: Buffer): Buffer => b;
  const codec = { requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
  const service: Record<string, import('@grpc/grpc-js').MethodDefinition<Buffer, Buffer>> = {};
  const impl: Record<string, import('@grpc/grpc-js').UntypedHandleCall> = {};
  for (const [path, handler] of Object.entries(handlers)) {
    service[path] = { path, requestStream: false, responseStream: false, ...codec };
    const unary: import('@grpc/grpc-js').handleUnaryCall<Buffer, Buffer> = (call, callback) => {
      handler(call.request).then(
        (res) => callback(null, res),
        (e: unknown) => callback(e as GrpcStatusError),
      );
    };
    impl[path] = unary;
  }
  if (methods.includes(DIFF_COPY)) {
    service[DIFF_COPY] = { path: DIFF_COPY, requestStream: true, responseStream: true, ...codec };
    const bidi: import('@grpc/grpc-js').handleBidiStreamingCall<Buffer, Buffer> = (call) => {
      const metadata = call.metadata.toJSON() as Record<string, string[]>;
      const write = (b: Buffer): Promise<void> => (call.write(b) ? Promise.resolve() : new Promise((resolve) => call.once('drain', () => resolve())));
      // Not the stream's own iterator: leaving that loop (at FIN) would destroy the call before its status is sent.
      const incoming = (async function* () {
        for await (const [packet] of on(call, 'data', { close: ['end'] })) yield packet as Buffer;
      })();
      serveDiffCopy({ metadata, incoming, write }, dirs).then(
        () => call.end(),
        (e: unknown) => call.emit('error', { code: (e as { code?: number }).code ?? 2, details: (e as Error).message }),
      );
    };
    impl[DIFF_COPY] = bidi;
  }
  server.addService(service, impl);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  socket.on('error', () => undefined); // the engine closing the session mid-way is not our failure
  injector.injectConnection(socket);
  let closed = false;
  return {
    id,
    close: () => {
      if (closed) return;
      closed = true;
      injector.destroy();
      server.forceShutdown();
      socket.destroy();
    },
  };
}

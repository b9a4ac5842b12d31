/**
 * A tiny in-memory OCI distribution registry on node:http for the unit tests: token auth (optional), manifests
 * by tag and digest, blobs (optionally redirected to another origin, optionally corrupted), monolithic uploads.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256 } from '../digest.js';
import type { FixtureImage } from './images.js';
import { MT } from '../types.js';

export class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  /** `<repo>:<tag or digest>` → manifest. */
  readonly manifests = new Map<string, { mediaType: string; bytes: Buffer }>();
  /** Serve these blobs with other bytes (digest → bytes served). */
  readonly corrupt = new Map<string, Buffer>();
  /** Redirect blob GETs to http://localhost:<port>/storage/… (another origin than 127.0.0.1). */
  redirectBlobs = false;
  /** Require a Bearer token obtained from /token. */
  requireAuth = false;
  readonly token = 'secret-token';
  readonly tokenScopes: string[] = [];
  readonly log: string[] = [];
  /** Authorization headers seen on /storage requests (must be none). */
  readonly storageAuth: (string | undefined)[] = [];
  private server: Server | undefined;
  private readonly uploads = new Map<string, string>();
  url = '';
  host = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        res.statusCode = 500;
        res.end(String(e));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as AddressInfo).port;
    this.host = `127.0.0.1:${port}`;
    this.url = `http://${this.host}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  addBlob(b: Buffer): string {
    const d = sha256(b);
    this.blobs.set(d, b);
    return d;
  }

  addManifest(repo: string, tag: string | undefined, mediaType: string, bytes: Buffer): string {
    const d = sha256(bytes);
    this.manifests.set(`${repo}:${d}`, { mediaType, bytes });
    if (tag !== undefined) this.manifests.set(`${repo}:${tag}`, { mediaType, bytes });
    return d;
  }

  /** Puts a fixture image (config, layers, manifest) under repo:tag. */
  addImage(repo: string, tag: string | undefined, img: FixtureImage): string {
    this.addBlob(img.configBytes);
    for (const b of img.blobs) this.addBlob(b);
    return this.addManifest(repo, tag, img.manifest.mediaType ?? MT.dockerManifest, img.manifestBytes);
  }

  /** A manifest list of fixture images (each with its config's platform). */
  addIndex(repo: string, tag: string, imgs: FixtureImage[], oci = false): string {
    const index = {
      schemaVersion: 2,
      mediaType: oci ? MT.ociIndex : MT.dockerList,
      manifests: imgs.map((img) => {
        this.addImage(repo, undefined, img);
        return {
          mediaType: img.manifest.mediaType,
          digest: img.manifestDigest,
          size: img.manifestBytes.length,
          platform: { os: img.config.os, architecture: img.config.architecture, ...(img.config.architecture === 'arm64' ? { variant: 'v8' } : {}) },
        };
      }),
    };
    return this.addManifest(repo, tag, index.mediaType, Buffer.from(JSON.stringify(index)));
  }

  private async body(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private error(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
    this.json(res, status, { errors: [{ code, message }] }, headers);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', this.url);
    this.log.push(`${req.method} ${u.pathname}`);
    if (u.pathname === '/token') {
      this.tokenScopes.push(u.searchParams.get('scope') ?? '');
      return this.json(res, 200, { token: this.token });
    }
    if (u.pathname.startsWith('/storage/')) {
      this.storageAuth.push(req.headers.authorization);
      const d = decodeURIComponent(u.pathname.slice('/storage/'.length));
      return this.sendBlob(res, d, req.method === 'HEAD');
    }
    const m = /^\/v2\/(.+?)\/(manifests|blobs)\/(.+)$/.exec(u.pathname);
    const scopeRepo = m?.[1] ?? '';
    if (this.requireAuth && req.headers.authorization !== `Bearer ${this.token}`) {
      const actions = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'pull,push';
      return this.error(res, 401, 'UNAUTHORIZED', 'authentication required', {
        'www-authenticate': `Bearer realm="${this.url}/token",service="fake-registry",scope="repository:${scopeRepo}:${actions}"`,
      });
    }
    if (u.pathname === '/v2/' || u.pathname === '/v2') return this.json(res, 200, {});
    if (!m) return this.error(res, 404, 'NOT_FOUND', 'not found');
    const [, repo, kind, rest] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      const key = `${repo}:${rest}`;
      if (req.method === 'PUT') {
        const bytes = await this.body(req);
        const digest = this.addManifest(repo, rest.startsWith('sha256:') ? undefined : rest, (req.headers['content-type'] ?? '').toString(), bytes);
        res.writeHead(201, { 'docker-content-digest': digest, location: `/v2/${repo}/manifests/${digest}` });
        return void res.end();
      }
      const man = this.manifests.get(key);
      if (!man) return this.error(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      res.writeHead(200, { 'content-type': man.mediaType, 'docker-content-digest': sha256(man.bytes), 'content-length': String(man.bytes.length) });
      return void res.end(req.method === 'HEAD' ? undefined : man.bytes);
    }
    // blobs
    if (rest === 'uploads/' && req.method === 'POST') {
      const id = randomUUID();
      this.uploads.set(id, repo);
      res.writeHead(202, { location: `/v2/${repo}/blobs/uploads/${id}?_state=x`, 'docker-upload-uuid': id, 'content-length': '0' });
      return void res.end();
    }
    if (rest.startsWith('uploads/') && req.method === 'PUT') {
      const id = rest.slice('uploads/'.length);
      if (!this.uploads.has(id)) return this.error(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown');
      if (u.searchParams.get('_state') !== 'x') return this.error(res, 400, 'BLOB_UPLOAD_INVALID', 'lost query');
      const bytes = await this.body(req);
      const want = u.searchParams.get('digest') ?? '';
      const got = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
      if (want !== got) return this.error(res, 400, 'DIGEST_INVALID', `digest mismatch ${want} != ${got}`);
      this.blobs.set(got, bytes);
      this.uploads.delete(id);
      res.writeHead(201, { 'docker-content-digest': got, location: `/v2/${repo}/blobs/${got}` });
      return void res.end();
    }
    if (this.redirectBlobs && req.method === 'GET') {
      const port = (this.server!.address() as AddressInfo).port;
      res.writeHead(307, { location: `http://localhost:${port}/storage/${encodeURIComponent(rest)}` });
      return void res.end();
    }
    return this.sendBlob(res, rest, req.method === 'HEAD');
  }

  private sendBlob(res: ServerResponse, digest: string, head: boolean): void {
    const b = this.blobs.get(digest);
    if (!b) return this.error(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    const bytes = this.corrupt.get(digest) ?? b;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length), 'docker-content-digest': digest });
    res.end(head ? undefined : bytes);
  }
}

/**
 * A small OCI distribution client on Node's global fetch (distribution-spec `spec.md`, Docker token auth):
 * manifests, blobs, uploads; Bearer tokens from `WWW-Authenticate` (Basic credentials from the Docker CLI
 * config when present); redirects followed by hand so the Authorization header never leaves its host.
 */
import { applyDeferredExtraCa } from '../../util/extra-ca.js';
import { lookupCredentials, isInsecureRegistry, type RegistryConfig } from './registry-config.js';
import { sha256 } from './digest.js';
import { INDEX_TYPES, MANIFEST_TYPES, MT } from './types.js';
import type { ImageReference } from './reference.js';

export const MANIFEST_ACCEPT = [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest].join(', ');

export interface Endpoint {
  /** Origin of the registry API (`https://registry-1.docker.io`, `http://127.0.0.1:5001`). */
  url: string;
  /** The registry name used for credentials (`docker.io`, `127.0.0.1:5001`). */
  host: string;
  mirror: boolean;
}

/** The endpoints to try for a reference: mirrors first for docker.io pulls, then the registry itself. */
export function endpointsFor(ref: Pick<ImageReference, 'registry'>, cfg: RegistryConfig, push = false): Endpoint[] {
  if (ref.registry === 'docker.io') {
    const hub = { url: (cfg.dockerHubUrl ?? 'https://registry-1.docker.io').replace(/\/+$/, ''), host: 'docker.io', mirror: false };
    if (push) return [hub];
    return [...cfg.mirrors.map((m) => ({ url: m.replace(/\/+$/, ''), host: new URL(m).host, mirror: true })), hub];
  }
  const scheme = isInsecureRegistry(ref.registry, cfg) ? 'http' : 'https';
  return [{ url: `${scheme}://${ref.registry}`, host: ref.registry, mirror: false }];
}

/** A registry answered with an error status (or could not be reached: `status` 0). */
export class RegistryError extends Error {
  readonly status: number;
  /** First `errors[].code` of the body (`MANIFEST_UNKNOWN`, `DENIED`, …). */
  readonly registryCode: string | undefined;
  readonly url: string;
  /** The registry's own words (`manifest unknown: manifest unknown`), without the request description. */
  readonly detail: string;
  constructor(message: string, status: number, url: string, registryCode?: string, cause?: unknown, detail?: string) {
    super(message, cause === undefined ? undefined : { cause });
    this.status = status;
    this.url = url;
    this.registryCode = registryCode;
    this.detail = detail ?? message;
  }
}

function describeNetworkError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.message) return cause.message;
  if (cause?.code) return cause.code;
  return (e as Error).message;
}

/** Parses `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } | undefined {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2]!)) !== null) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

async function errorBody(res: Response): Promise<{ code?: string; message?: string }> {
  try {
    const text = await res.text();
    const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = j.errors?.[0];
    return first ? { ...(first.code ? { code: first.code } : {}), ...(first.message ? { message: first.message } : {}) } : {};
  } catch {
    return {};
  }
}

export interface RequestInit2 {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | Blob;
  signal?: AbortSignal | undefined;
  /** Scope actions for the token: `pull` or `pull,push`. */
  actions?: string;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export class RegistryClient {
  private readonly authHeaders = new Map<string, string>();

  constructor(private readonly cfg: RegistryConfig) {}

  private credentials(host: string) {
    return lookupCredentials(host, this.cfg.dockerConfigPath);
  }

  /** fetch with manual redirects (Authorization dropped on a cross-origin hop); network errors become RegistryError. */
  private async fetchFollow(url: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    let current = url;
    let headers = { ...init.headers };
    for (let hop = 0; hop < 10; hop++) {
      // The CA certificates bin/tscompose deferred (NODE_EXTRA_CA_CERTS, util/extra-ca.ts): Node's own setting for
      // this process, put back before its first TLS connection, not a registry setting.
      if (current.startsWith('https:')) applyDeferredExtraCa();
      let res: Response;
      try {
        res = await fetch(current, { ...init, headers, redirect: 'manual' });
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
        const method = (init.method ?? 'GET').charAt(0) + (init.method ?? 'GET').slice(1).toLowerCase();
        throw new RegistryError(`${method} "${current}": ${describeNetworkError(e)}`, 0, current, undefined, e);
      }
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        const next = new URL(res.headers.get('location')!, current);
        await res.body?.cancel();
        if (next.origin !== new URL(current).origin) {
          const { authorization: _drop, Authorization: _drop2, ...rest } = headers;
          headers = rest;
        }
        current = next.toString();
        continue;
      }
      return res;
    }
    throw new RegistryError(`too many redirects from ${url}`, 0, url);
  }

  private async fetchToken(ep: Endpoint, params: Record<string, string>, repo: string, actions: string, signal?: AbortSignal): Promise<string> {
    const realm = params['realm'];
    if (!realm) throw new RegistryError(`${ep.url}: bearer challenge without realm`, 401, ep.url);
    const u = new URL(realm);
    if (params['service']) u.searchParams.set('service', params['service']);
    u.searchParams.set('scope', `repository:${repo}:${actions}`);
    const headers: Record<string, string> = {};
    const creds = this.credentials(ep.host);
    if (creds) headers['authorization'] = 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    const res = await this.fetchFollow(u.toString(), { method: 'GET', headers, ...(signal ? { signal } : {}) });
    if (!res.ok) {
      const b = await errorBody(res);
      throw new RegistryError(
        `getting a token from ${u.origin}${u.pathname}: ${res.status} ${b.message ?? res.statusText}`,
        res.status,
        u.toString(),
        b.code,
      );
    }
    const j = (await res.json()) as { token?: string; access_token?: string };
    const token = j.token ?? j.access_token;
    if (!token) throw new RegistryError(`token response from ${u.origin} has no token`, 401, u.toString());
    return token;
  }

  /** A request to `<endpoint>/v2/<path>` with auth; returns any response (the caller checks the status). */
  async request(ep: Endpoint, repo: string, path: string, init: RequestInit2 = {}): Promise<Response> {
    const actions = init.actions ?? 'pull';
    const key = `${ep.url} ${repo} ${actions}`;
    const url = /^https?:\/\//.test(path) ? path : `${ep.url}/v2/${path}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      const auth = this.authHeaders.get(key);
      if (auth) headers['authorization'] = auth;
      const res = await this.fetchFollow(url, {
        method: init.method ?? 'GET',
        headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
      if (res.status !== 401 || attempt === 1) return res;
      const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
      if (!challenge) return res;
      await res.body?.cancel();
      if (challenge.scheme === 'bearer') {
        this.authHeaders.set(key, 'Bearer ' + (await this.fetchToken(ep, challenge.params, repo, actions, init.signal)));
      } else if (challenge.scheme === 'basic') {
        const creds = this.credentials(ep.host);
        if (!creds) return this.fetchFollow(url, { method: init.method ?? 'GET', headers, ...(init.signal ? { signal: init.signal } : {}) });
        this.authHeaders.set(key, 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64'));
      } else {
        return res;
      }
    }
    throw new Error('unreachable');
  }

  private async fail(res: Response, what: string): Promise<never> {
    const b = await errorBody(res);
    const code = b.code ? b.code.toLowerCase().replace(/_/g, ' ') : `${res.status} ${res.statusText}`.trim();
    const msg = b.message && b.message.toLowerCase() !== code ? `${code}: ${b.message}` : code;
    throw new RegistryError(`${what}: ${msg}`, res.status, res.url, b.code, undefined, msg);
  }

  /** GET a manifest or index by tag or digest; verifies the digest when it is known. */
  async getManifest(ep: Endpoint, repo: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.request(ep, repo, `${repo}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT }, signal });
    if (!res.ok) await this.fail(res, `${ep.url}: manifest ${repo}:${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > 4 * 1024 * 1024) throw new RegistryError(`manifest ${repo}:${reference} is too large`, res.status, res.url);
    const digest = sha256(bytes);
    const expected = reference.includes(':') ? reference : res.headers.get('docker-content-digest');
    if (expected && expected.startsWith('sha256:') && expected !== digest) {
      throw new RegistryError(
        `manifest ${repo}:${reference}: digest mismatch: expected ${expected}, got ${digest}`,
        res.status,
        res.url,
        'DIGEST_INVALID',
      );
    }
    let mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    try {
      const j = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; schemaVersion?: number };
      if (j.schemaVersion === 1) mediaType = MT.dockerSchema1;
      else if (j.mediaType) mediaType = j.mediaType;
      else if (![...INDEX_TYPES, ...MANIFEST_TYPES].includes(mediaType)) mediaType = j.manifests ? MT.ociIndex : MT.ociManifest;
    } catch {
      throw new RegistryError(`manifest ${repo}:${reference} is not JSON`, res.status, res.url);
    }
    return { bytes, mediaType, digest };
  }

  /** GET a blob; the caller streams `res.body` and verifies the digest. */
  async getBlob(ep: Endpoint, repo: string, digest: string, signal?: AbortSignal): Promise<Response> {
    const res = await this.request(ep, repo, `${repo}/blobs/${digest}`, { signal });
    if (!res.ok) await this.fail(res, `${ep.url}: blob ${repo}@${digest}`);
    return res;
  }

  /** GET a small blob (a config) into memory and verify its digest. */
  async getBlobBytes(ep: Endpoint, repo: string, digest: string, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.getBlob(ep, repo, digest, signal);
    const bytes = Buffer.from(await res.arrayBuffer());
    const actual = sha256(bytes);
    if (actual !== digest) throw new RegistryError(`blob ${repo}@${digest}: digest mismatch: got ${actual}`, res.status, res.url, 'DIGEST_INVALID');
    return bytes;
  }

  async blobExists(ep: Endpoint, repo: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.request(ep, repo, `${repo}/blobs/${digest}`, { method: 'HEAD', actions: 'pull,push', signal });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.fail(res, `${ep.url}: HEAD blob ${repo}@${digest}`);
  }

  /** Monolithic upload: POST /blobs/uploads/, then PUT <location>?digest=. */
  async uploadBlob(ep: Endpoint, repo: string, digest: string, body: Blob | Buffer, signal?: AbortSignal): Promise<void> {
    const start = await this.request(ep, repo, `${repo}/blobs/uploads/`, {
      method: 'POST',
      actions: 'pull,push',
      headers: { 'content-length': '0' },
      signal,
    });
    if (start.status !== 202) await this.fail(start, `${ep.url}: starting the upload of ${digest}`);
    await start.body?.cancel();
    const location = start.headers.get('location');
    if (!location) throw new RegistryError(`${ep.url}: upload of ${digest}: no Location`, start.status, start.url);
    const u = new URL(location, `${ep.url}/v2/`);
    u.searchParams.set('digest', digest);
    const size = Buffer.isBuffer(body) ? body.length : body.size;
    const put = await this.request(ep, repo, u.toString(), {
      method: 'PUT',
      actions: 'pull,push',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
      signal,
    });
    if (put.status !== 201 && put.status !== 204) await this.fail(put, `${ep.url}: uploading ${digest}`);
    await put.body?.cancel();
  }

  /** PUT a manifest under a tag (or digest); returns the digest the registry reports (or computes). */
  async putManifest(ep: Endpoint, repo: string, reference: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<string> {
    const res = await this.request(ep, repo, `${repo}/manifests/${reference}`, {
      method: 'PUT',
      actions: 'pull,push',
      headers: { 'content-type': mediaType },
      body: bytes,
      signal,
    });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) await this.fail(res, `${ep.url}: putting manifest ${repo}:${reference}`);
    await res.body?.cancel();
    return res.headers.get('docker-content-digest') ?? sha256(bytes);
  }
}

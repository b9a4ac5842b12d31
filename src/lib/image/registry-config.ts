/**
 * Registry settings for the native runtime: mirrors for Docker Hub names, registries served over plain HTTP,
 * and credentials from the Docker CLI config (`config.json` `auths`). The caller says where they come from
 * (RegistrySettings); nothing here reads the environment.
 */
import { readFileSync } from 'node:fs';

export interface RegistryConfig {
  /** Pull-through mirrors for docker.io names, tried in order before registry-1.docker.io (`http://127.0.0.1:5001`). */
  mirrors: string[];
  /** `host:port` (or host, or IPv4 CIDR) served over plain HTTP. */
  insecure: string[];
  /** Docker CLI config file with `auths`; none: no credentials. */
  dockerConfigPath?: string;
  /** Docker Hub's registry API endpoint (tests point it elsewhere); default `https://registry-1.docker.io`. */
  dockerHubUrl?: string;
}

/** Where the registry settings come from (the native runtime fills it from its environment, native/context.ts). */
export interface RegistrySettings {
  /** Mirrors for docker.io names, before those of daemon.json (`127.0.0.1:5001` means `https://127.0.0.1:5001`). */
  readonly mirrors: readonly string[];
  /** Registries served over plain HTTP, before those of daemon.json. */
  readonly insecure: readonly string[];
  /** A Docker daemon.json whose `registry-mirrors` / `insecure-registries` follow the above; none: not read. */
  readonly daemonJsonPath: string | undefined;
  /** The Docker CLI config file with `auths`; none: no credentials. */
  readonly dockerConfigPath: string | undefined;
}

/** `127.0.0.1:5001` → `https://127.0.0.1:5001` unless it has a scheme; no trailing slash. */
export function normalizeMirror(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
  return withScheme.replace(/\/+$/, '');
}

function readDaemonJson(path: string): { mirrors: string[]; insecure: string[] } {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return { mirrors: [], insecure: [] };
  }
  try {
    const j = JSON.parse(raw) as Record<string, unknown>;
    const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    return { mirrors: strings(j['registry-mirrors']), insecure: strings(j['insecure-registries']) };
  } catch {
    return { mirrors: [], insecure: [] };
  }
}

/**
 * The registry configuration of the given settings: their mirrors and insecure registries first, then those of the
 * daemon.json (read now; a missing or malformed file adds nothing), without duplicates.
 */
export function loadRegistryConfig(settings: RegistrySettings): RegistryConfig {
  const daemon = settings.daemonJsonPath ? readDaemonJson(settings.daemonJsonPath) : { mirrors: [], insecure: [] };
  const mirrors = [...settings.mirrors, ...daemon.mirrors].map(normalizeMirror);
  const insecure = [...settings.insecure, ...daemon.insecure];
  const cfg: RegistryConfig = { mirrors: [...new Set(mirrors)], insecure: [...new Set(insecure)] };
  if (settings.dockerConfigPath) cfg.dockerConfigPath = settings.dockerConfigPath;
  return cfg;
}

function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function hostOf(hostport: string): string {
  if (hostport.startsWith('[')) return hostport.slice(1, hostport.indexOf(']'));
  const i = hostport.lastIndexOf(':');
  return i >= 0 && hostport.indexOf(':') === i ? hostport.slice(0, i) : hostport;
}

/** Whether `host[:port]` is to be spoken to over plain HTTP: loopback names always, else the insecure list. */
export function isInsecureRegistry(hostport: string, config: Pick<RegistryConfig, 'insecure'>): boolean {
  const host = hostOf(hostport);
  if (host === 'localhost' || host === '::1' || /^127\./.test(host)) return true;
  for (const entry of config.insecure) {
    const e = entry.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
    if (e === hostport || e === host) return true;
    const cidr = /^([\d.]+)\/(\d+)$/.exec(e);
    const ip = ipv4ToInt(host);
    if (cidr && ip !== undefined) {
      const base = ipv4ToInt(cidr[1]!);
      const bits = Number(cidr[2]);
      if (base === undefined || bits > 32) continue;
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      if ((ip & mask) >>> 0 === (base & mask) >>> 0) return true;
    }
  }
  return false;
}

export interface BasicCredentials {
  username: string;
  password: string;
}

const HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://registry-1.docker.io'];

/** Credentials for a registry from the Docker CLI config file's `auths` (no credential helpers); none without a file. */
export function lookupCredentials(registry: string, configPath: string | undefined): BasicCredentials | undefined {
  if (!configPath) return undefined;
  let auths: Record<string, { auth?: string; username?: string; password?: string }>;
  try {
    const j = JSON.parse(readFileSync(configPath, 'utf8')) as { auths?: typeof auths };
    auths = j.auths ?? {};
  } catch {
    return undefined;
  }
  const keys = registry === 'docker.io' || registry === 'registry-1.docker.io' ? HUB_KEYS : [registry];
  for (const [key, value] of Object.entries(auths)) {
    const bare = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
    if (!keys.includes(key) && !keys.includes(bare)) continue;
    if (value.auth) {
      const decoded = Buffer.from(value.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
    }
    if (value.username && value.password) return { username: value.username, password: value.password };
  }
  return undefined;
}

/**
 * compose `security_opt` parsed once into the runtime port's typed SecuritySpec, with Docker's keys and errors (the
 * docker CLI's and docker compose's parseSecurityOpts, the daemon's parseSecurityOpt): `KEY=VALUE` (or the old
 * `KEY:VALUE`), bare `no-new-privileges`; `seccomp=FILE` is read here, relative to the project's directory, as docker
 * compose reads it client-side; unknown keys are errors, as the daemon's.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSeccompProfile } from '../lib/seccomp/index.js';
import { TsComposeError } from '../errors.js';
import type { SeccompProfileSpec, SecuritySpec } from '../runtime/runtime.js';

function invalid(opt: string, detail = ''): TsComposeError {
  return new TsComposeError('TSC_INVALID_SECURITY_OPT', `invalid security_opt: "${opt}"${detail}`, {
    hint: 'one of no-new-privileges[=true|false], seccomp=unconfined|builtin|FILE, apparmor=PROFILE, label=…, systempaths=unconfined, writable-cgroups=true|false',
  });
}

function bool(opt: string, v: string): boolean {
  const b = v.toLowerCase();
  if (b === 'true' || b === '1' || b === 't') return true;
  if (b === 'false' || b === '0' || b === 'f') return false;
  throw invalid(opt, ': not a boolean');
}

/** A profile file's content, parsed; TsComposeError `TSC_SECCOMP_PROFILE` naming the file when it cannot be read. */
function readProfile(value: string, workingDir: string): SeccompProfileSpec {
  const file = resolve(workingDir, value);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TsComposeError('TSC_SECCOMP_PROFILE', `opening seccomp profile (${value}) failed: ${(e as Error).message}`, { cause: e });
  }
  return { file, profile: parseSeccompProfile(text, file) };
}

/** `security_opt` → SecuritySpec; `workingDir` is the project's directory (seccomp profile paths are relative to it). */
export function parseSecurityOpts(opts: readonly string[], workingDir: string): SecuritySpec {
  const out: { -readonly [K in keyof SecuritySpec]: SecuritySpec[K] } = {};
  const labels: string[] = [];
  for (const raw of opts) {
    const opt = raw.trim();
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    let i = opt.indexOf('=');
    if (i < 0) i = opt.indexOf(':');
    if (i <= 0) throw invalid(raw);
    const key = opt.slice(0, i);
    const value = opt.slice(i + 1);
    switch (key) {
      case 'no-new-privileges':
        out.noNewPrivileges = bool(raw, value);
        break;
      case 'seccomp':
        if (value === 'unconfined') out.seccomp = 'unconfined';
        else if (value === 'builtin') out.seccomp = 'default';
        else if (value === '') throw invalid(raw, ': no profile');
        else out.seccomp = readProfile(value, workingDir);
        break;
      case 'apparmor':
        if (value === '') throw invalid(raw, ': no profile');
        out.apparmor = value;
        break;
      case 'label':
        labels.push(value);
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw invalid(raw, ': only systempaths=unconfined is known');
        out.unconfinedSystemPaths = true;
        break;
      case 'writable-cgroups':
        out.writableCgroups = bool(raw, value);
        break;
      default:
        throw invalid(raw);
    }
  }
  if (labels.length > 0) out.labels = labels;
  return out;
}

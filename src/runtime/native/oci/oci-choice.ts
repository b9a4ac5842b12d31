/**
 * Which OCI runtime the native runtime uses on this host, and which one made a given container.
 *
 * The choice: `TSCOMPOSE_OCI_RUNTIME` (`runc`, `crun` or an absolute path) wins; otherwise crun whenever it can run
 * here, else runc. crun starts a container in about half runc's time (native-runtime notes §11), but crun 1.8
 * refuses hybrid cgroup hosts whose cgroup2 mount holds a controller (./cgroups.ts crunCgroupVerdict); runc 1.1
 * runs everywhere, so it is the fallback. The probe is a few stats, no spawn: the CLI makes it on every start.
 *
 * The choice can change over a host's life (scripts/engine-env.sh gives `hugetlb` a v1 hierarchy and crun becomes
 * usable; `--stop` undoes it), while containers made by the other runtime still run. Each runtime's state directory
 * `<root>/<id>` has its own format (runc `state.json`, crun `status`), and neither reads the other's: OciRuntime
 * (./oci-runtime.ts) sends every command about an existing container to the runtime that made it (ociStateKind).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { TsComposeError } from '../../../errors.js';
import { isExecutableFile, whichSync } from '../../../lib/proc/which.js';
import { crunCgroupSupport, type CrunCgroupCheck } from './cgroups.js';

export type OciRuntimeName = 'runc' | 'crun';

export interface OciRuntimeChoice {
  readonly name: OciRuntimeName;
  /** Absolute path of the binary. */
  readonly path: string;
  /** Why this one (`tscompose version --verbose`, diagnostics). */
  readonly reason: string;
}

/** Host lookups chooseOciRuntime needs; injectable for tests. */
export interface OciRuntimeProbe {
  /** Absolute path of an executable found on PATH (or the sbin directories), else undefined. */
  which(cmd: string): string | undefined;
  /** Whether crun can create containers on this host's cgroups (./cgroups.ts crunCgroupSupport). */
  crunCgroups(): CrunCgroupCheck;
  /** Whether an absolute path is an executable file. */
  isExecutable(file: string): boolean;
}

export { whichSync };

export const defaultOciRuntimeProbe: OciRuntimeProbe = {
  which: (cmd) => whichSync(cmd),
  crunCgroups: () => crunCgroupSupport(),
  isExecutable: isExecutableFile,
};

const INSTALL_HINT = 'install runc (apt-get install runc) or crun, or set TSCOMPOSE_OCI_RUNTIME to the absolute path of one';

function missing(what: string): TsComposeError {
  return new TsComposeError('TSC_OCI_RUNTIME_MISSING', what, { hint: INSTALL_HINT });
}

/** The runtime a binary is, by its name (a path naming neither is taken for runc, whose CLI the others follow). */
export function ociRuntimeNameOf(binary: string): OciRuntimeName {
  return path.basename(binary).includes('crun') ? 'crun' : 'runc';
}

/**
 * Picks the OCI runtime: the wanted one (`TSCOMPOSE_OCI_RUNTIME`, read by native/context.ts: `runc`, `crun` or an
 * absolute path) wins; otherwise crun when it is installed and can run on this host's cgroups, else runc.
 * TsComposeError `TSC_OCI_RUNTIME_MISSING` when none is available, `TSC_OCI_RUNTIME_INVALID` for another value.
 */
export function chooseOciRuntime(wantedRuntime: string | undefined, probe: OciRuntimeProbe = defaultOciRuntimeProbe): OciRuntimeChoice {
  const wanted = wantedRuntime?.trim();
  if (wanted) {
    if (wanted === 'runc' || wanted === 'crun') {
      const p = probe.which(wanted);
      if (!p) throw missing(`TSCOMPOSE_OCI_RUNTIME=${wanted}, but ${wanted} is not installed`);
      return { name: wanted, path: p, reason: `TSCOMPOSE_OCI_RUNTIME=${wanted}${crunWarning(wanted, probe)}` };
    }
    if (path.isAbsolute(wanted)) {
      if (!probe.isExecutable(wanted)) throw missing(`TSCOMPOSE_OCI_RUNTIME=${wanted} is not an executable file`);
      const name = ociRuntimeNameOf(wanted);
      return { name, path: wanted, reason: `TSCOMPOSE_OCI_RUNTIME=${wanted}${crunWarning(name, probe)}` };
    }
    throw new TsComposeError(
      'TSC_OCI_RUNTIME_INVALID',
      `TSCOMPOSE_OCI_RUNTIME must be runc, crun or an absolute path, not ${JSON.stringify(wanted)}`,
    );
  }
  const crun = probe.which('crun');
  const runc = probe.which('runc');
  const check = crun ? probe.crunCgroups() : undefined;
  if (crun && check?.ok) return { name: 'crun', path: crun, reason: `crun runs on this host's cgroups (${check.layout})` };
  if (runc)
    return {
      name: 'runc',
      path: runc,
      reason: check ? `crun cannot run on this host's cgroups: ${check.layout}; runc can` : 'crun is not installed',
    };
  if (crun) throw missing(`crun is installed but cannot run on this host's cgroups (${check?.layout ?? '?'}), and runc is not installed`);
  throw missing('no OCI runtime found: neither runc nor crun is installed');
}

function crunWarning(name: OciRuntimeName, probe: OciRuntimeProbe): string {
  if (name !== 'crun') return '';
  try {
    const check = probe.crunCgroups();
    return check.ok ? '' : ` (warning: crun cannot run on this host's cgroups: ${check.layout}; runc can)`;
  } catch {
    return '';
  }
}

/**
 * Which runtime made the container `<root>/<id>`, by its state directory: runc writes `state.json`, crun `status`.
 * Undefined when there is no such container (or neither file is there yet, during a `create`).
 */
export function ociStateKind(root: string, id: string): OciRuntimeName | undefined {
  const dir = path.join(root, path.basename(id));
  if (existsSync(path.join(dir, 'state.json'))) return 'runc';
  if (existsSync(path.join(dir, 'status'))) return 'crun';
  return undefined;
}

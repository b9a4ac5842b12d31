/**
 * The systemd unit that runs `tscompose --runtime native resume` at boot (`resume --install-systemd`): a oneshot
 * after the network is up, with the native runtime's settings of the installing shell (state and run directories,
 * OCI runtime, registries, remap) and its PATH (conmon and the OCI runtime are found on it). `KillMode=process`:
 * stopping the unit (or re-running it) never takes down the containers' conmon processes, exit hooks, health
 * monitor or DNS resolver it started, which live on in its cgroup, as podman's restart service leaves its own.
 */
import { createHash } from 'node:crypto';

/** The variables the native runtime reads (src/runtime/native/context.ts) that a boot must see as the user had them. */
const CARRIED = /^(TSCOMPOSE_(?!RUNTIME$)[A-Z0-9_]+|DOCKER_CONFIG|PATH)$/;

export interface UnitInput {
  /** The absolute path of bin/tscompose. */
  readonly executable: string;
  readonly env: NodeJS.ProcessEnv;
}

/** `tscompose-resume.service`, or `tscompose-resume-<hash>.service` for a state directory other than the default. */
export function unitName(env: NodeJS.ProcessEnv): string {
  const state = env.TSCOMPOSE_STATE_DIR;
  if (state === undefined || state === '' || state === '/var/lib/tscompose') return 'tscompose-resume.service';
  return `tscompose-resume-${createHash('sha256').update(state).digest('hex').slice(0, 12)}.service`;
}

/** systemd's quoting of one word of a command line or an Environment= assignment. */
function quote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

export function systemdUnit(input: UnitInput): string {
  const env = Object.entries(input.env)
    .filter((e): e is [string, string] => CARRIED.test(e[0]) && e[1] !== undefined && e[1] !== '')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `Environment=${quote(`${k}=${v}`)}`);
  return [
    '# Made by `tscompose resume --install-systemd`; removed by `tscompose resume --uninstall-systemd`.',
    '[Unit]',
    'Description=tscompose: bring back native containers after boot (restart policies, depends_on order)',
    'Wants=network-online.target',
    'After=network-online.target local-fs.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    'KillMode=process',
    'TimeoutStartSec=20min',
    ...env,
    `ExecStart=${[input.executable, '--runtime', 'native', '--progress', 'plain', 'resume'].map(quote).join(' ')}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

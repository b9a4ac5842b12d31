/**
 * `resume`: after a reboot, brings back the containers their restart policy wants running, across projects, in
 * depends_on order with health waits (src/engine/resume.ts). `--install-systemd` writes and enables a unit that runs
 * it at boot (src/cli/boot/systemd-unit.ts); `--uninstall-systemd` removes it. With `--dry-run`, prints the plan.
 */
import type { Command } from '@commander-js/extra-typings';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TsComposeError, UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { seconds } from './common.js';

interface ResumeCliOptions {
  waitTimeout?: string;
  installSystemd?: true;
  uninstallSystemd?: true;
  unitDir?: string;
}

export function resumeCommand(program: Command, context: ContextOf) {
  return program
    .command('resume')
    .description('After a reboot: start the containers of every project that their restart policy wants running, in depends_on order')
    .option('--wait-timeout <seconds>', 'how long to wait for one dependency to be healthy or completed', '600')
    .option('--install-systemd', 'install and enable a systemd unit that runs `tscompose --runtime native resume` at boot')
    .option('--uninstall-systemd', 'disable and remove that unit')
    .option('--unit-dir <dir>', 'where the unit goes', '/etc/systemd/system')
    .action(async (opts, cmd) => runResume(context(cmd), opts));
}

export async function runResume(ctx: CommandContext, opts: ResumeCliOptions): Promise<void> {
  if (opts.installSystemd && opts.uninstallSystemd) throw new UsageError('--install-systemd and --uninstall-systemd exclude each other');
  if (opts.installSystemd) return installUnit(ctx, opts.unitDir ?? '/etc/systemd/system');
  if (opts.uninstallSystemd) return uninstallUnit(ctx, opts.unitDir ?? '/etc/systemd/system');
  const [{ resume, resumePlan, resumePlanText }, { withSession }] = await Promise.all([import('../../engine/resume.js'), import('../session.js')]);
  if (ctx.globals.dryRun) {
    const plan = await withSession(ctx, (s) => resumePlan(s.engine), { dryRun: true });
    ctx.out.stdout.write(`DRY-RUN MODE - resume: ${resumePlanText(plan)}`);
    return;
  }
  await withSession(ctx, (s) => resume(s.engine, { waitTimeoutSeconds: seconds(opts.waitTimeout, '--wait-timeout') }));
}

/** Whether systemd runs this machine (sd_booted(3): /run/systemd/system exists). */
const systemdRuns = (): boolean => existsSync('/run/systemd/system');

function systemctl(...args: string[]): void {
  const r = spawnSync('systemctl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new TsComposeError('TSC_SYSTEMCTL', `systemctl ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

async function installUnit(ctx: CommandContext, unitDir: string): Promise<void> {
  const { systemdUnit, unitName } = await import('../boot/systemd-unit.js');
  const executable = findExecutable(resolve(process.argv[1] ?? ''));
  const name = unitName(process.env);
  const file = join(unitDir, name);
  mkdirSync(unitDir, { recursive: true });
  writeFileSync(file, systemdUnit({ executable, env: process.env }), { mode: 0o644 });
  ctx.out.stdout.write(`wrote ${file}\n`);
  if (!systemdRuns()) {
    ctx.out.stdout.write(
      'systemd does not run this machine: the unit is not enabled. Run `tscompose --runtime native resume` from its boot scripts ' +
        "(e.g. /etc/rc.local, or an @reboot line in root's crontab), with the same TSCOMPOSE_* settings as now.\n",
    );
    return;
  }
  systemctl('daemon-reload');
  systemctl('enable', name);
  ctx.out.stdout.write(`enabled ${name}: it runs at every boot (\`systemctl status ${name}\`, \`journalctl -u ${name}\`)\n`);
}

/** bin/tscompose of the package running now: beside bin/launch.cjs, or in bin/ above dist/ (dist/cli/main.js). */
function findExecutable(script: string): string {
  let dir = dirname(script);
  for (let i = 0; i < 4; i++) {
    for (const candidate of [join(dir, 'tscompose'), join(dir, 'bin', 'tscompose')]) if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new TsComposeError('TSC_INSTALL', `cannot find the tscompose executable near ${script}`);
}

async function uninstallUnit(ctx: CommandContext, unitDir: string): Promise<void> {
  const { unitName } = await import('../boot/systemd-unit.js');
  const name = unitName(process.env);
  const file = join(unitDir, name);
  if (systemdRuns() && existsSync(file)) systemctl('disable', name);
  rmSync(file, { force: true });
  if (systemdRuns()) systemctl('daemon-reload');
  ctx.out.stdout.write(`removed ${file}\n`);
}

/**
 * The crash test's suite (crash.test.ts describes it), for any plan: the 50-point run of `npm run test:heavy` and the
 * short one of `npm test` (test/e2e/native-crash.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, required } from '../e2e/helpers.js';
import { hostSnapshot, leakedSince, type HostSnapshot } from '../e2e/host-snapshot.js';
import { capable, nativeDescribe } from '../e2e/native-harness.js';
import { cycles, Expectations, fingerprint, present, type CrashCommand } from './crash-cycles.js';
import { CrashEnv, progressSummary, sleep, tail } from './crash-env.js';
import { pointLine, summaryTable, type CrashRun, type PointResult } from './crash-plan.js';
import { LOAD_IMAGE, writeProject } from './crash-project.js';

/**
 * Defines the crash test's suite for `plan` (its points, in order): see crash.test.ts. `title` names the suite (the
 * short run of test/e2e/native-crash.test.ts has its own).
 */
export function crashSuite(plan: CrashRun, title = 'native runtime crash test'): void {
  const run = nativeDescribe ? describe : describe.skip;
  const env = new CrashEnv();
  const reportFile = join(tmpdir(), `tscompose-crash-${plan.seed}.log`);

  function log(line: string): void {
    process.stderr.write(`${line.replace(/^/gm, '[crash] ')}\n`);
    appendFileSync(reportFile, `${line}\n`);
  }

  beforeAll(() => {
    if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
  });

  afterAll(() => {
    if (!capable) return;
    env.ts(true, 'down', '-v', '-t', '0');
    if (process.env['CRASH_KEEP'] === '1') return log(`kept ${env.base}`);
    env.ts(false, 'image', 'prune', '-a', '-f');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(env.base));
    for (const m of mounts.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
    rmSync(env.base, { recursive: true, force: true });
  }, 300_000);

  type Check = 'ok' | 'missing' | 'failed';
  let warnedMissing = false;
  /** `tscompose --runtime native check`: the store and state check (a warning, not a failure, while it is missing). */
  function storeCheck(): { state: Check; output: string } {
    const r = env.ts(false, '--runtime', 'native', 'check');
    if (r.status === 0) return { state: 'ok', output: r.stdout };
    if (/unknown command/i.test(r.stderr)) {
      if (!warnedMissing) log('WARNING: `tscompose check` does not exist yet: the store check is skipped');
      warnedMissing = true;
      return { state: 'missing', output: '' };
    }
    return { state: 'failed', output: `exit ${r.status}\n${tail(r.stdout)}\n${tail(r.stderr)}` };
  }

  /** What leaked since `ref`, and what the runtime's state holds that `accepted` does not, once settled (≤ 10 s). */
  async function leaks(ref: HostSnapshot, accepted: ReadonlySet<string>): Promise<string[]> {
    let found: string[] = [];
    for (let t = 0; t < 20; t++) {
      const host = Object.entries(leakedSince(ref, hostSnapshot(env.base))).flatMap(([k, v]) => v.map((x) => `${k}: ${x}`));
      found = [...host, ...env.stateLeftovers().filter((s) => !accepted.has(s))];
      if (found.length === 0) return [];
      await sleep(500);
    }
    return found;
  }

  /**
   * After a failed point: a clean state to go on from, as far as the CLI (and `check --repair`) gets there. Returns
   * why the state is still not usable (the images cannot be pulled or built, the project does not come up), or
   * undefined.
   */
  async function recover(cyc: ReturnType<typeof cycles>): Promise<string | undefined> {
    for (const s of [
      ['down', '-t', '0'],
      ['rm', '-f', '-s'],
      ['down', '-t', '0'],
    ]) {
      const r = env.ts(true, ...s);
      if (r.status !== 0) log(`  recovery: ${s.join(' ')}: exit ${r.status}: ${tail(r.stderr, 300)}`);
    }
    if (present(env, LOAD_IMAGE)) env.ts(false, 'image', 'rm', '-f', LOAD_IMAGE);
    // what the runtime's own check can repair, so that later points start clean
    const r = env.ts(false, '--runtime', 'native', 'check', '--repair');
    if (r.status !== 0 && !/unknown (command|option)/i.test(r.stderr))
      log(`  recovery: check --repair: exit ${r.status}: ${tail(r.stdout + r.stderr, 600)}`);
    try {
      for (const a of [['pull'], ['build'], ['up', '-d']]) env.ok(true, ...a);
      await cyc.up.verify('');
      env.ok(true, 'down');
      return undefined;
    } catch (e) {
      return errText(e);
    }
  }

  const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

  run(title, () => {
    test(`the CLI killed at ${plan.points.length} points of up/down/build/pull/image load/rm: each rerun converges, nothing leaks, the store checks`, async () => {
      writeFileSync(reportFile, '');
      log(
        `seed ${plan.seed} (replay: CRASH_SEED=${plan.seed}), ${plan.points.length} points, base ${env.base}, project ${env.name}, report ${reportFile}`,
      );
      const port = await freePort();
      writeProject(env.dir, port);
      const x = new Expectations(`marker-${plan.seed}-${Date.now()}`, port, join(env.base, 'load.tar'));
      const cyc = cycles(env, x);
      const before = hostSnapshot(env.base);

      // The archive `image load` reads: a small image with a layer of its own, saved, then removed with its cache.
      env.ok(false, '-f', 'loadsrc/compose.yaml', '-p', `${env.name}src`, 'build');
      fingerprint(env, x, 'loaded');
      env.ok(true, 'down');
      env.ok(false, 'image', 'save', '-o', x.archive, LOAD_IMAGE);
      env.ok(false, 'image', 'rm', LOAD_IMAGE);
      env.ok(false, 'builder', 'prune', '-f');

      // Each command's normal duration: the mean of two cycles without a kill (the first pull and build fingerprint the images).
      const durations = new Map<CrashCommand, number>();
      for (const c of ['pull', 'build', 'up', 'rm', 'down', 'load'] as const) {
        const cy = cyc[c];
        const ms: number[] = [];
        for (let n = 0; n < 2; n++) {
          cy.prepare();
          const r = env.ts(cy.project, ...cy.args);
          if (r.status !== 0) throw new Error(`${c} (uninterrupted): exit ${r.status}\n${tail(r.stderr)}`);
          ms.push(r.ms);
          await cy.verify(r.stdout);
          cy.finish();
          if (n === 0) log(`${c}: ${progressSummary(r.stdout + r.stderr)}`);
        }
        durations.set(c, Math.round((ms[0]! + ms[1]!) / 2));
        log(`measured ${c}: ${ms.join(' and ')} ms, mean ${durations.get(c)} ms`);
      }
      const setupLeaks = await leaks(before, new Set());
      expect(setupLeaks).toEqual([]);
      const first = storeCheck();
      if (first.state === 'failed') log(`store check before any kill FAILED: ${first.output}`);
      expect(first.state).not.toBe('failed');

      const results: PointResult[] = [];
      let stoppedBy: string | undefined;
      let ref = before;
      let accepted = new Set<string>();
      for (const [i, p] of plan.points.entries()) {
        const cy = cyc[p.command];
        const delayMs = p.delayMs ?? Math.round(p.fraction * durations.get(p.command)!);
        const res: PointResult = {
          index: i,
          command: p.command,
          delayMs,
          killed: false,
          lastLine: '',
          rerun: '-',
          rerunMs: 0,
          check: '-',
          failures: [],
        };
        let killedErr = '';
        try {
          cy.prepare();
          const k = await env.killAfter(cy.project, cy.args, delayMs);
          Object.assign(res, { killed: k.killed, lastLine: k.lastLine });
          killedErr = k.stderr;
          if (!k.killed && k.exitCode !== 0) res.failures.push(`the command failed before the kill (exit ${k.exitCode})`);
          const rr = env.ts(cy.project, ...cy.args);
          res.rerunMs = rr.ms;
          if (rr.status !== 0) {
            res.rerun = `exit ${rr.status}`;
            res.failures.push(`rerun: exit ${rr.status}: ${tail(rr.stderr, 1200)}`);
          } else {
            res.rerun = progressSummary(rr.stdout + rr.stderr);
            await cy.verify(rr.stdout).catch((e: unknown) => res.failures.push(`verify: ${errText(e)}`));
          }
        } catch (e) {
          res.failures.push(`prepare: ${errText(e)}`);
        }
        try {
          cy.finish();
        } catch (e) {
          res.failures.push(`${p.command === 'load' ? 'down / image rm' : 'down'} after it: ${errText(e)}`);
        }
        const left = await leaks(ref, accepted);
        if (left.length > 0) res.failures.push(`leaked: ${left.join(', ')}`);
        const c = storeCheck();
        res.check = c.state;
        if (c.state === 'failed') res.failures.push(`check: ${c.output}`);
        results.push(res);
        log(pointLine(res));
        if (res.failures.length > 0) {
          for (const f of res.failures) log(`    ${f.replace(/\n/g, '\n    ')}`);
          log(`    the killed command printed: ${tail(killedErr, 800).replace(/\n/g, '\n      ')}`);
          const broken = await recover(cyc);
          if (broken !== undefined) {
            stoppedBy = `point #${i + 1} (${p.command} killed at ${delayMs} ms) left a state the CLI does not recover from: ${broken}`;
            log(`STOPPING: ${stoppedBy}`);
            break;
          }
          // later points report only what they leak themselves; the end compares with the very first snapshot
          ref = hostSnapshot(env.base);
          accepted = new Set(env.stateLeftovers());
        }
      }

      // The named volume's data survived every crash; then everything goes and nothing is left.
      const volume: string[] = [];
      const up = env.ts(true, 'up', '-d');
      if (up.status !== 0) volume.push(`final up -d: exit ${up.status}: ${tail(up.stderr, 600)}`);
      else await cyc.up.verify('').catch((e: unknown) => volume.push(`final up: ${errText(e)}`));
      const last = storeCheck();
      for (const a of [
        ['down', '-v'],
        ['image', 'prune', '-a', '-f'],
        ['builder', 'prune', '-f'],
      ]) {
        const r = env.ts(a[0] === 'down', ...a);
        if (r.status !== 0) volume.push(`${a.join(' ')}: exit ${r.status}: ${tail(r.stderr, 400)}`);
      }
      const leftAtEnd = await leaks(before, new Set());
      const checkEnd = storeCheck();

      log(
        `\nseed ${plan.seed}: ${results.length} of ${plan.points.length} points run, ${results.filter((r) => r.failures.length > 0).length} failed`,
      );
      log(summaryTable(results, durations));
      if (stoppedBy) log(`stopped early: ${stoppedBy}`);
      for (const r of results.filter((r) => r.failures.length > 0)) log(`failed: ${pointLine(r)}`);
      if (volume.length > 0) log(`volume / final up: ${volume.join('; ')}`);
      if (leftAtEnd.length > 0) log(`left at the end: ${leftAtEnd.join(', ')}`);
      for (const [when, c] of [
        ['with the images', last],
        ['after down -v and prune', checkEnd],
      ] as const)
        if (c.state === 'failed') log(`store check ${when} FAILED: ${c.output}`);

      expect(results.filter((r) => r.failures.length > 0).map(pointLine)).toEqual([]);
      expect(stoppedBy).toBeUndefined();
      expect(volume).toEqual([]);
      expect(leftAtEnd).toEqual([]);
      expect([last.state, checkEnd.state]).not.toContain('failed');
    }, 3_300_000);
  });
}

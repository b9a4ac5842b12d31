/**
 * Runs the network tools (`ip`, `nft`, `iptables-save`/`iptables-restore`, `mount`): a command batch is a list of
 * steps, each an argv plus optional stdin (for `ip -batch -`, `nft -f -`). Planning functions produce these, so
 * tests can compare them without root, and the executors just feed them here.
 */
import { spawn } from 'node:child_process';
import { isErrno } from '../errors.js';
import { NetCommandError, type RunResult } from './errors.js';

export interface Step {
  readonly argv: readonly string[];
  /** Fed on stdin (batch scripts). */
  readonly input?: string;
  /** Failures whose stderr matches are treated as success (idempotent deletes: "Cannot find device"). */
  readonly okIf?: RegExp;
}

/** Runs one command; resolves with its result whatever the exit code. */
export function runRaw(argv: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) throw new Error('empty argv'); // a bug of the caller, not the user's
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    if (input !== undefined) {
      child.stdin!.on('error', () => undefined); // EPIPE when the tool exits early: the exit code tells
      child.stdin!.end(input);
    }
  });
}

/** Runs a step; throws NetCommandError on failure (a missing tool included) unless `okIf` matches the output. */
export async function runStep(step: Step): Promise<RunResult> {
  const r = await runRaw(step.argv, step.input).catch((e: unknown) => {
    if (!isErrno(e, 'ENOENT')) throw e;
    return { code: 127, stdout: '', stderr: `${step.argv[0]}: command not found` };
  });
  if (r.code !== 0 && !(step.okIf && step.okIf.test(r.stderr + r.stdout))) throw new NetCommandError(step.argv, r, step.input);
  return r;
}

export async function runSteps(steps: readonly Step[]): Promise<void> {
  for (const s of steps) await runStep(s);
}

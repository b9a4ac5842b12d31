/**
 * Runs the network tools (`ip`, `nft`, `iptables-save`/`iptables-restore`, `mount`): a command batch is a list of
 * steps, each an argv plus optional stdin (for `ip -batch -`, `nft -f -`). Planning functions produce these, so
 * tests can compare them without root, and the executors just feed them here.
 */
import { sharedSpawner } from '../proc/spawner.js';
import { NetCommandError, type RunResult } from './errors.js';

export interface Step {
  readonly argv: readonly string[];
  /** Fed on stdin (batch scripts). */
  readonly input?: string;
  /** Failures whose stderr matches are treated as success (idempotent deletes: "Cannot find device"). */
  readonly okIf?: RegExp;
}

/**
 * Runs one command; resolves with its result whatever the exit code (127: not found). Started by the process's
 * helper shell (lib/proc/spawner.ts), not forked from this (large) process: a container's attachment runs several.
 */
export async function runRaw(argv: readonly string[], input?: string): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty argv'); // a bug of the caller, not the user's
  return sharedSpawner().run({ command: cmd, args, ...(input === undefined ? {} : { input }) });
}

/** Runs a step; throws NetCommandError on failure (a missing tool included) unless `okIf` matches the output. */
export async function runStep(step: Step): Promise<RunResult> {
  let r = await runRaw(step.argv, step.input);
  // A missing tool is status 127 (the spawner resolves, never rejects, for it), which sh words "eval: ip: not
  // found": the error message (errors.ts) wants to say the tool is missing.
  if (r.code === 127 && !/command not found/.test(r.stderr)) r = { ...r, stderr: `${step.argv[0]}: command not found\n${r.stderr}` };
  if (r.code !== 0 && !(step.okIf && step.okIf.test(r.stderr + r.stdout))) throw new NetCommandError(step.argv, r, step.input);
  return r;
}

export async function runSteps(steps: readonly Step[]): Promise<void> {
  for (const s of steps) await runStep(s);
}

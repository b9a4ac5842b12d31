/**
 * Signals by name and number (Linux x86/arm): what `kill`, `stop_signal` and the image's StopSignal accept
 * (`SIGTERM`, `TERM`, `sigterm`, `15`, `SIGRTMIN+3`), their canonical names, and the signal `stop` sends.
 */
import { TsComposeError } from '../../../errors.js';
import type { ContainerSpec } from '../../runtime.js';
import type { ImageRunConfig } from './spec-types.js';

/** Linux (x86/arm) signal numbers. */
const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
  SIGRTMIN: 34,
  SIGRTMAX: 64,
};
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** The canonical name of a signal number (`15` → `SIGTERM`, `36` → `SIGRTMIN+2`). */
function signalName(n: number): string {
  for (const [name, num] of Object.entries(SIGNALS)) {
    if (num === n && name !== 'SIGIOT' && name !== 'SIGCLD' && name !== 'SIGPOLL') return name;
  }
  if (n > SIGRTMIN && n < SIGRTMAX) return n - SIGRTMIN <= SIGRTMAX - n ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`;
  throw invalidSignal(String(n));
}

function invalidSignal(s: string): TsComposeError {
  return new TsComposeError('TSC_INVALID_SIGNAL', `invalid signal: ${s}`);
}

/**
 * A signal number from `SIGTERM`, `TERM`, `sigterm`, `15`, `SIGRTMIN+3`, `RTMAX-1`. TsComposeError
 * `TSC_INVALID_SIGNAL` otherwise.
 */
export function signalNumber(signal: string | number): number {
  if (typeof signal === 'number') {
    if (!Number.isInteger(signal) || signal < 1 || signal > SIGRTMAX) throw invalidSignal(String(signal));
    return signal;
  }
  const s = signal.trim();
  if (/^\d+$/.test(s)) return signalNumber(Number(s));
  let name = s.toUpperCase();
  if (!name.startsWith('SIG')) name = 'SIG' + name;
  const direct = SIGNALS[name];
  if (direct !== undefined) return direct;
  const rt = /^SIGRT(MIN|MAX)([+-])(\d+)$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const n = rt[2] === '+' ? base + Number(rt[3]) : base - Number(rt[3]);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw invalidSignal(signal);
}

/** Normalizes any accepted signal form to its canonical name (`term`, `15` → `SIGTERM`). */
export function normalizeSignal(signal: string | number): string {
  return signalName(signalNumber(signal));
}

/** The signal `stop` sends: compose `stop_signal` ?? image `StopSignal` ?? SIGTERM, normalized (`SIGTERM` form). */
export function stopSignalOf(spec: Pick<ContainerSpec, 'stopSignal'>, image?: Pick<ImageRunConfig, 'StopSignal'>): string {
  const s = spec.stopSignal || image?.StopSignal || 'SIGTERM';
  return normalizeSignal(s);
}

/**
 * The load test's memory sampler: every ~250 ms, the resident set (RSS, from /proc/<pid>/stat) of tscompose's own
 * processes of one test: Node processes started with the test's state directory in their environment or naming its
 * base directory in their arguments (the CLI, the DNS resolver, health monitors, exit hooks), classified by their
 * script; conmon processes of the test are counted apart (not Node, but per container too). Keeps the peak total,
 * the peak per kind (sum, count, largest single process), and the peak of each phase the test names.
 *
 * RSS counts shared pages (the node binary's text) in every process, as `ps` does: a sum over processes is an upper
 * bound of what they cost together.
 */
import { readdirSync, readFileSync } from 'node:fs';

export type Kind = 'cli' | 'dns-resolver' | 'health-monitor' | 'exit-hook' | 'build-worker' | 'other-node' | 'conmon';

export interface KindPeak {
  /** The largest sum of the kind's RSS in one sample, in MiB. */
  peakSumMiB: number;
  /** The most processes of the kind in one sample. */
  peakCount: number;
  /** The largest RSS of one process of the kind, in MiB. */
  maxSingleMiB: number;
}

export interface MemoryReport {
  samples: number;
  intervalMs: number;
  /** The largest sum of the Node processes' RSS in one sample (conmon excluded), in MiB, and the phase it was in. */
  peakNodeTotalMiB: number;
  peakNodeTotalPhase: string;
  /** The same with conmon processes included. */
  peakTotalWithConmonMiB: number;
  kinds: Partial<Record<Kind, KindPeak>>;
  /** Per phase: the largest Node total and the most Node processes in one sample. */
  phases: Record<string, { peakNodeTotalMiB: number; peakNodeProcesses: number }>;
}

const PAGE = 4096;
const MiB = 1024 * 1024;
const round = (n: number): number => Math.round(n * 10) / 10;

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** What kind of tscompose process a command line is (argv joined by NUL), or undefined when none. */
export function classify(cmdline: string): Kind | undefined {
  const argv = cmdline.split('\0').filter(Boolean);
  const exe = argv[0] ?? '';
  if (/(^|\/)conmon$/.test(exe)) return 'conmon';
  if (!/(^|\/)node$/.test(exe)) return undefined;
  const args = argv.slice(1).join(' ');
  if (/dns\/resolver\.js/.test(args)) return 'dns-resolver';
  if (/health-monitor\.js/.test(args)) return 'health-monitor';
  if (/exit-hook\.js/.test(args)) return 'exit-hook';
  if (/build\/worker\.js/.test(args)) return 'build-worker';
  if (/bin\/(launch\.cjs|tscompose)|tscompose\.cjs|cli\/main\.js/.test(args)) return 'cli';
  return 'other-node';
}

/** Fields of /proc/<pid>/stat after the command name: [2] is field 3 (state), so field n is at n - 3. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  /** pid → what it was when last classified: the key changes on exec (comm) or pid reuse (start time). */
  private readonly known = new Map<number, { key: string; kind: Kind | undefined }>();
  private current = 'setup';
  private samples = 0;
  private peakNode = 0;
  private peakNodePhase = 'setup';
  private peakAll = 0;
  private readonly kinds = new Map<Kind, { sum: number; count: number; single: number }>();
  private readonly phases = new Map<string, { total: number; count: number }>();

  constructor(
    /** The test's base directory (holds the state and run directories). */
    private readonly base: string,
    /** TSCOMPOSE_STATE_DIR of the test's commands. */
    private readonly stateDir: string,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  /** Names the phase the next samples belong to. */
  phase(name: string): void {
    this.sample();
    this.current = name;
  }

  private kindOf(pid: number, stat: string): Kind | undefined {
    const f = statFields(stat);
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const key = `${f[19]}:${comm}`;
    const was = this.known.get(pid);
    if (was?.key === key) return was.kind;
    const cmdline = read(`/proc/${pid}/cmdline`) ?? '';
    let kind = classify(cmdline);
    if (kind !== undefined && !cmdline.includes(this.base)) {
      const env = read(`/proc/${pid}/environ`) ?? '';
      if (!env.split('\0').includes(`TSCOMPOSE_STATE_DIR=${this.stateDir}`)) kind = undefined;
    }
    this.known.set(pid, { key, kind });
    return kind;
  }

  sample(): void {
    let pids: number[];
    try {
      pids = readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map(Number);
    } catch {
      return;
    }
    const sums = new Map<Kind, { sum: number; count: number; single: number }>();
    for (const pid of pids) {
      const stat = read(`/proc/${pid}/stat`);
      if (!stat) continue;
      const kind = this.kindOf(pid, stat);
      if (!kind) continue;
      const rss = Number(statFields(stat)[21]) * PAGE;
      if (!(rss > 0)) continue; // a zombie, or gone between the reads
      const s = sums.get(kind) ?? { sum: 0, count: 0, single: 0 };
      s.sum += rss;
      s.count++;
      s.single = Math.max(s.single, rss);
      sums.set(kind, s);
    }
    let node = 0;
    let nodeCount = 0;
    let all = 0;
    for (const [kind, s] of sums) {
      all += s.sum;
      if (kind !== 'conmon') {
        node += s.sum;
        nodeCount += s.count;
      }
      const k = this.kinds.get(kind) ?? { sum: 0, count: 0, single: 0 };
      this.kinds.set(kind, { sum: Math.max(k.sum, s.sum), count: Math.max(k.count, s.count), single: Math.max(k.single, s.single) });
    }
    this.samples++;
    if (node > this.peakNode) {
      this.peakNode = node;
      this.peakNodePhase = this.current;
    }
    this.peakAll = Math.max(this.peakAll, all);
    const p = this.phases.get(this.current) ?? { total: 0, count: 0 };
    this.phases.set(this.current, { total: Math.max(p.total, node), count: Math.max(p.count, nodeCount) });
    const alive = new Set(pids);
    for (const pid of this.known.keys()) if (!alive.has(pid)) this.known.delete(pid);
  }

  report(): MemoryReport {
    const kinds: Partial<Record<Kind, KindPeak>> = {};
    for (const [kind, k] of this.kinds) kinds[kind] = { peakSumMiB: round(k.sum / MiB), peakCount: k.count, maxSingleMiB: round(k.single / MiB) };
    const phases: MemoryReport['phases'] = {};
    for (const [name, p] of this.phases) phases[name] = { peakNodeTotalMiB: round(p.total / MiB), peakNodeProcesses: p.count };
    return {
      samples: this.samples,
      intervalMs: this.intervalMs,
      peakNodeTotalMiB: round(this.peakNode / MiB),
      peakNodeTotalPhase: this.peakNodePhase,
      peakTotalWithConmonMiB: round(this.peakAll / MiB),
      kinds,
      phases,
    };
  }
}

/**
 * The projects of the load test (./load.test.ts) and what reads their results:
 * - the big project: 200 busybox services on five networks (40 httpd `web-NN`, 20 of them with a healthcheck, 10
 *   on fixed and 10 on ephemeral published ports; 160 `sleep` services `app-NNN`), with a few `depends_on`, some
 *   gated on health;
 * - the small projects of the parallel phase: three `sleep` services on one network, and a fourth that exits by
 *   itself (code 3) 3 s after its start, so exit hooks run while the other projects come up;
 * - the DNS probe: a container that runs `nslookup -type=a target` (a sibling service) every 200 ms until a stop
 *   file appears or a bound is reached, appending `ok`/`fail` lines with /proc/uptime times to a bind-mounted file.
 */
import { spawn } from 'node:child_process';
import { bin } from '../e2e/helpers.js';

export const WEBS = 40;
export const HEALTHY_WEBS = 20;
export const FIXED_PORTS = 10;
export const EPHEMERAL_PORTS = 10;
export const APPS = 160;
export const NETS = 4;

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
export const web = (i: number): string => `web-${pad(i, 2)}`;
export const app = (i: number): string => `app-${pad(i, 3)}`;

/** The big project's compose file; fixed published ports are `portBase + i` on 127.0.0.1 for web-00…web-09. */
export function bigCompose(portBase: number): string {
  const out = ['services:'];
  for (let i = 0; i < WEBS; i++) {
    out.push(
      `  ${web(i)}:`,
      '    image: busybox:latest',
      '    init: true',
      '    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]',
      '    volumes: ["./site:/www:ro"]',
      `    networks: [front, n${i % NETS}]`,
    );
    if (i < FIXED_PORTS) out.push(`    ports: ["127.0.0.1:${portBase + i}:8080"]`);
    else if (i < FIXED_PORTS + EPHEMERAL_PORTS) out.push('    ports: ["127.0.0.1::8080"]');
    if (i < HEALTHY_WEBS)
      out.push(
        '    healthcheck:',
        '      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]',
        '      interval: 30s',
        '      timeout: 5s',
        '      retries: 3',
        '      start_period: 60s',
        '      start_interval: 1s',
      );
  }
  for (let i = 0; i < APPS; i++) {
    out.push(`  ${app(i)}:`, '    image: busybox:latest', '    init: true', '    command: ["sleep", "3600"]', `    networks: [n${i % NETS}]`);
    // app-000…004 wait for web-00…04 to be healthy; app-010…014 for app-000…004 to be started; app-020 for both.
    if (i < 5) out.push('    depends_on:', `      ${web(i)}:`, '        condition: service_healthy');
    else if (i >= 10 && i < 15) out.push(`    depends_on: [${app(i - 10)}]`);
    else if (i === 20) out.push(`    depends_on: [${app(10)}, ${web(5)}]`);
  }
  out.push('networks:', '  front: {}');
  for (let n = 0; n < NETS; n++) out.push(`  n${n}: {}`);
  return `${out.join('\n')}\n`;
}

export const SMALL_COMPOSE = `services:
  a:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [net]
  b:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [net]
    depends_on: [a]
  c:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [net]
  d:
    image: busybox:latest
    command: ["sh", "-c", "sleep 3; exit 3"]
    networks: [net]
networks:
  net: {}
`;

/** The DNS probe's loop (out/probe.sh): at most `max` queries of `target`, `pause` seconds apart, until /out/stop. */
export const PROBE_SCRIPT = `#!/bin/sh
# The load test's DNS query loop: nslookup of a sibling service; one line per query in /out/results.txt:
# ok|fail <n> <uptime before> <uptime after> [rc and output of a failure]
max=$1 pause=$2 name=$3
i=0
while [ "$i" -lt "$max" ] && [ ! -e /out/stop ]; do
  i=$((i + 1))
  read t0 _ < /proc/uptime
  out=$(nslookup -type=a "$name" 2>&1)
  rc=$?
  read t1 _ < /proc/uptime
  case "$rc:$out" in
    0:*"Name:"*"Address"*) echo "ok $i $t0 $t1" >> /out/results.txt ;;
    *) echo "fail $i $t0 $t1 rc=$rc $(echo "$out" | tr '\\n' '|')" >> /out/results.txt ;;
  esac
  sleep "$pause"
done
echo "done $i" >> /out/results.txt
exec sleep 3600
`;

export function probeCompose(max: number, pauseSeconds: number): string {
  return `services:
  target:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [dns]
  probe:
    image: busybox:latest
    init: true
    command: ["sh", "/out/probe.sh", "${max}", "${pauseSeconds}", "target"]
    volumes: ["./out:/out"]
    networks: [dns]
    depends_on: [target]
networks:
  dns: {}
`;
}

export interface ProbeResults {
  queries: number;
  ok: number;
  failures: string[];
  /** Whether the loop ended (stop file or bound) and wrote its last line. */
  done: boolean;
  maxLatencyMs: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
  /** Each query: its start (/proc/uptime seconds), latency and outcome. */
  samples: { t0: number; ms: number; ok: boolean }[];
}

export function parseProbe(text: string): ProbeResults {
  const lat: number[] = [];
  const failures: string[] = [];
  const samples: ProbeResults['samples'] = [];
  let ok = 0;
  let done = false;
  for (const line of text.split('\n').filter(Boolean)) {
    const [what, , t0, t1] = line.split(' ');
    if (what === 'done') done = true;
    else if (what === 'ok') ok++;
    else failures.push(line);
    if ((what === 'ok' || what === 'fail') && t0 && t1) {
      const ms = Math.round((Number(t1) - Number(t0)) * 1000);
      lat.push(ms);
      samples.push({ t0: Number(t0), ms, ok: what === 'ok' });
    }
  }
  lat.sort((a, b) => a - b);
  const pct = (p: number): number => lat[Math.min(lat.length - 1, Math.floor((lat.length * p) / 100))] ?? 0;
  return { queries: ok + failures.length, ok, failures, done, maxLatencyMs: lat.at(-1) ?? 0, p50LatencyMs: pct(50), p99LatencyMs: pct(99), samples };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  /** The end of stdout and stderr (the whole of short outputs). */
  out: string;
  stdout: string;
}

/**
 * Runs bin/tscompose without blocking the event loop (the memory sampler runs meanwhile; parallel phases run many).
 * Keeps all of stdout (for `ps`) and the last 16 KiB of stdout and stderr interleaved.
 */
export function cli(
  env: NodeJS.ProcessEnv,
  cwd: string,
  args: string[],
  timeoutMs: number,
  onLine?: (line: string, ms: number) => void,
): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(bin, ['--progress', 'plain', ...args], { cwd, env, timeout: timeoutMs, killSignal: 'SIGKILL' });
    let out = '';
    let stdout = '';
    const partial = { out: '', err: '' };
    const add = (c: Buffer, from: 'out' | 'err'): void => {
      out = (out + c.toString()).slice(-16384);
      if (!onLine) return;
      const lines = (partial[from] + c.toString()).split('\n');
      partial[from] = lines.pop()!;
      for (const l of lines) onLine(l, Date.now() - t0);
    };
    p.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      add(c, 'out');
    });
    p.stderr.on('data', (c: Buffer) => add(c, 'err'));
    p.on('close', (code, signal) => resolve({ code, signal, ms: Date.now() - t0, out, stdout }));
  });
}

/** Throws with the command's output unless it exited 0. */
export function ok(r: CliResult, what: string): CliResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code ?? r.signal} after ${r.ms} ms\n${r.out}`);
  return r;
}

export interface PsRow {
  Name: string;
  Service: string;
  State: string;
  Health?: string;
  ExitCode: number;
  Publishers: { URL: string; TargetPort: number; PublishedPort: number }[];
}

export function psRows(r: CliResult): PsRow[] {
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as PsRow);
}

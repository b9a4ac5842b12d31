/**
 * The bounded request loop of the multi-node swarm test (./swarm-multinode.test.ts): sequential HTTP/1.0 GETs to a
 * port published in `mode: host` on every node of the swarm, as a client (or a load balancer) in front of the nodes
 * would send them, with this rule for what counts as lost:
 * - a connection that is never established (refused, unreachable, no SYN-ACK within `connectTimeoutMs`) carried no
 *   request: the client tries the next node, round robin, for up to `retryForMs`; if no node accepts within that
 *   time the request is lost (an outage);
 * - once a connection is established, anything but a complete `200` response whose body is one of `bodies` (a reset,
 *   an early close, a timeout, another status, another body) is a lost request, never retried.
 * That is the retry that `proxy_next_upstream error`-style balancers and DNS-round-robin clients do (a refused
 * connection is safe to retry: the server never saw the request), and nothing more.
 */
import { Socket } from 'node:net';

export interface LoopOptions {
  readonly hosts: readonly string[];
  readonly port: number;
  /** The bodies a correct response may have (trimmed). */
  readonly bodies: readonly string[];
  /** The loop's bound: it ends after this many requests even if `stop` has not resolved. */
  readonly maxRequests: number;
  /** Ends the loop (after the request under way). */
  readonly stop: Promise<unknown>;
  readonly connectTimeoutMs?: number | undefined;
  readonly responseTimeoutMs?: number | undefined;
  readonly retryForMs?: number | undefined;
  /** Pause between requests. */
  readonly gapMs?: number | undefined;
}

export interface LoopResult {
  readonly requests: number;
  readonly ok: number;
  /** Requests without a correct response: `<when ms> <host> <why>`. */
  readonly lost: readonly string[];
  /** Connections never established, each retried on the next node. */
  readonly refused: number;
  /** Correct responses per body, in order of first appearance. */
  readonly bodies: ReadonlyMap<string, number>;
  /** Correct responses per node address. */
  readonly perHost: ReadonlyMap<string, number>;
  /** The body of the last correct response. */
  readonly last: string | undefined;
  /** When (ms since the loop began) each body was first and last served. */
  readonly seen: ReadonlyMap<string, { readonly first: number; readonly last: number }>;
  readonly ms: number;
}

type Attempt =
  | { readonly kind: 'ok'; readonly body: string }
  | { readonly kind: 'refused'; readonly why: string }
  | { readonly kind: 'lost'; readonly why: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One GET on a fresh connection. */
function attempt(host: string, port: number, connectTimeoutMs: number, responseTimeoutMs: number, bodies: readonly string[]): Promise<Attempt> {
  return new Promise((resolve) => {
    const sock = new Socket();
    let connected = false;
    let data = '';
    let done = false;
    const finish = (a: Attempt): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(a);
    };
    let timer = setTimeout(() => finish({ kind: 'refused', why: `no connection within ${connectTimeoutMs} ms` }), connectTimeoutMs);
    sock.setEncoding('utf8');
    sock.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      timer = setTimeout(
        () => finish({ kind: 'lost', why: `no complete response within ${responseTimeoutMs} ms (got ${JSON.stringify(data)})` }),
        responseTimeoutMs,
      );
      sock.write('GET / HTTP/1.0\r\nHost: swarm\r\n\r\n');
    });
    sock.on('data', (c: string) => (data += c));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      if (!connected) finish({ kind: 'refused', why: e.code ?? e.message });
      else finish({ kind: 'lost', why: `${e.code ?? e.message} after connect (got ${JSON.stringify(data)})` });
    });
    sock.once('end', () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1];
      const body = data.split('\r\n\r\n').slice(1).join('\r\n\r\n').trim();
      if (status === '200' && bodies.includes(body)) finish({ kind: 'ok', body });
      else finish({ kind: 'lost', why: `bad response ${JSON.stringify(data.slice(0, 200))}` });
    });
    sock.connect(port, host);
  });
}

/** Runs requests one after another until `stop` resolves or `maxRequests` were sent. */
export async function requestLoop(o: LoopOptions): Promise<LoopResult> {
  const connectTimeoutMs = o.connectTimeoutMs ?? 1_000;
  const responseTimeoutMs = o.responseTimeoutMs ?? 5_000;
  const retryForMs = o.retryForMs ?? 10_000;
  const gapMs = o.gapMs ?? 10;
  let stopped = false;
  void o.stop.finally(() => (stopped = true));
  const t0 = Date.now();
  const lost: string[] = [];
  const bodies = new Map<string, number>();
  const perHost = new Map<string, number>();
  let refused = 0;
  let ok = 0;
  let requests = 0;
  let last: string | undefined;
  const seen = new Map<string, { first: number; last: number }>();
  let next = 0;
  while (!stopped && requests < o.maxRequests) {
    requests++;
    const deadline = Date.now() + retryForMs;
    for (let tries = 1; ; tries++) {
      const host = o.hosts[next++ % o.hosts.length]!;
      const a = await attempt(host, o.port, connectTimeoutMs, responseTimeoutMs, o.bodies);
      if (a.kind === 'ok') {
        ok++;
        last = a.body;
        bodies.set(a.body, (bodies.get(a.body) ?? 0) + 1);
        const at = Date.now() - t0;
        const s = seen.get(a.body);
        if (s) s.last = at;
        else seen.set(a.body, { first: at, last: at });
        perHost.set(host, (perHost.get(host) ?? 0) + 1);
        break;
      }
      if (a.kind === 'lost') {
        lost.push(`${Date.now() - t0} ${host} ${a.why}`);
        break;
      }
      refused++;
      if (Date.now() > deadline) {
        lost.push(`${Date.now() - t0} no node accepted a connection for ${retryForMs} ms (last: ${host} ${a.why})`);
        break;
      }
      // A full round of refusals: wait a little before the next round.
      if (tries % o.hosts.length === 0) await sleep(50);
    }
    await sleep(gapMs);
  }
  return { requests, ok, lost, refused, bodies, perHost, last, seen, ms: Date.now() - t0 };
}

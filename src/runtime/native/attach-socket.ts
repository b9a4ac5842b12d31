/**
 * conmon's attach socket and terminal control, for containers and execs with a terminal (`tty`).
 *
 * With `-t`, conmon receives the pty master from the OCI runtime (its console socket) and is the only holder of it:
 * what reaches the terminal's input goes through conmon's attach socket (`<bundle>/attach`, also reached through
 * `<socket-dir>/<cuuid>`), and resizes through its `ctl` FIFO (`1 HEIGHT WIDTH\n`, which conmon applies with
 * TIOCSWINSZ). The attach socket is SOCK_SEQPACKET, which Node cannot open; a small Perl script (perl-base, part of
 * every Debian and Ubuntu system) connects it and relays: its stdin to the socket, one message per read (conmon
 * reads at most 32767 bytes a message), and each message from conmon (a stream byte, 2 stdout or 3 stderr, then the
 * data) to its stdout or stderr, or nowhere (`discard`: the output is read from the log instead). conmon blocks on
 * a client that does not read, so the relay always reads. It writes `ready` on fd 3 once connected and exits when
 * conmon closes the socket (the process ended). When its stdin ends it shuts the socket's write side (conmon then
 * stops reading from it) and goes on relaying the output; with `discard` it exits then (nothing more to do: a CLI
 * that died leaves no relay behind).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { TsComposeError } from '../../errors.js';

/** The relay (see above). Arguments: the directory holding `attach`, and `relay` or `discard`. */
export const RELAY_SCRIPT = `use strict; use warnings; use Socket;
my ($dir, $mode) = @ARGV;
chdir($dir) or die "cannot enter $dir: $!\\n";
socket(my $s, AF_UNIX, SOCK_SEQPACKET, 0) or die "socket: $!\\n";
connect($s, pack_sockaddr_un('attach')) or die "cannot connect to $dir/attach: $!\\n";
chdir('/');
if (open(my $ready, '>&=', 3)) { syswrite($ready, "ready\\n"); close($ready); }
binmode(STDIN); binmode(STDOUT); binmode(STDERR);
my ($in, $buf) = (1, '');
sub put { my ($fh, $off, $len) = @_; while ($off < $len) { my $w = syswrite($fh, $buf, $len - $off, $off); exit(0) unless defined $w; $off += $w; } }
while (1) {
  my $rin = '';
  vec($rin, fileno($s), 1) = 1;
  vec($rin, 0, 1) = 1 if $in;
  my $n = select(my $rout = $rin, undef, undef, undef);
  if ($n < 0) { next if $!{EINTR}; last; }
  if (vec($rout, fileno($s), 1)) {
    my $r = sysread($s, $buf, 65536);
    last unless $r;
    put(ord($buf) == 3 ? \\*STDERR : \\*STDOUT, 1, $r) if $mode eq 'relay' && $r > 1;
  }
  if ($in && vec($rout, 0, 1)) {
    my $r = sysread(STDIN, $buf, 32767);
    if (!$r) { last if $mode ne 'relay'; shutdown($s, 1); $in = 0; next; }
    defined(send($s, $buf, 0)) or last;
  }
}
exit(0);
`;

export interface AttachRelay {
  readonly child: ChildProcess;
  /** The relay's stdin: what the terminal reads. */
  readonly input: NodeJS.WritableStream;
  /** What the process writes (`relay` mode; nothing with `discard`). */
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream;
  /** Resolves once the relay has exited. */
  readonly exited: Promise<void>;
}

/**
 * Connects conmon's attach socket in `dir` (the bundle conmon was given, or its `<socket-dir>/<cuuid>` link) and
 * resolves once connected. TSC_NATIVE_ATTACH when perl is missing or the socket cannot be connected.
 */
export async function connectAttachSocket(dir: string, mode: 'relay' | 'discard'): Promise<AttachRelay> {
  const child = spawn('perl', ['-e', RELAY_SCRIPT, dir, mode], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const ready = child.stdio[3] as NodeJS.ReadableStream;
  let diag = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (diag.length < 4096) diag += d.toString();
  });
  child.stdin!.on('error', () => undefined); // the relay ended: nothing more to forward
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const connected = await new Promise<boolean | 'missing'>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ENOENT' ? 'missing' : false));
    ready.once('data', () => resolve(true));
    ready.once('end', () => resolve(false));
  });
  if (connected !== true) {
    child.kill('SIGKILL');
    await exited;
    if (connected === 'missing')
      throw new TsComposeError('TSC_NATIVE_ATTACH', 'cannot reach the container terminal: perl is not installed', {
        hint: 'install it (apt-get install perl-base): the native runtime uses it to talk to conmon',
      });
    throw new TsComposeError('TSC_NATIVE_ATTACH', `cannot reach the container terminal: ${diag.trim() || 'the relay exited'}`);
  }
  return { child, input: child.stdin!, stdout: child.stdout!, stderr: child.stderr!, exited };
}

/** conmon's resize message for its `ctl` FIFO (WIN_RESIZE_EVENT). */
export function resizeMessage(size: { readonly rows: number; readonly columns: number }): string {
  const n = (v: number): number => (Number.isFinite(v) && v > 0 ? Math.min(Math.floor(v), 65535) : 0);
  return `1 ${n(size.rows)} ${n(size.columns)}\n`;
}

/**
 * Sets the size of the terminal conmon holds, through its `ctl` FIFO. False when conmon is not there to read it
 * (not started yet, or gone): a non-blocking open finds no reader (ENXIO).
 */
export function resizeTerminal(ctl: string, size: { readonly rows: number; readonly columns: number }): boolean {
  let fd: number;
  try {
    fd = openSync(ctl, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    writeSync(fd, resizeMessage(size));
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

type TerminalSize = { readonly rows: number; readonly columns: number };

/**
 * A terminal's sizes to one `ctl` FIFO, never two within `gapMs` of each other. conmon (2.1.6, measured) passes each
 * size on through a second FIFO of its own and, when one read there holds two lines, applies the first one only: two
 * sizes sent back to back (even 1 ms apart, as the two SIGWINCH of `stty cols 120 rows 40`, which sets the columns and
 * the rows in two ioctls) left the terminal at the first. Only the latest size matters, so a size asked for within the
 * gap waits for its end and replaces any that waited before it. The timer does not keep the process alive.
 */
export class TerminalSizer {
  private sentAt = Number.NEGATIVE_INFINITY;
  private waiting: TerminalSize | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (size: TerminalSize) => unknown,
    private readonly gapMs = 50,
  ) {}

  /** A sizer for conmon's FIFO at `ctl`. */
  static forFifo(ctl: string, gapMs?: number): TerminalSizer {
    return new TerminalSizer((size) => resizeTerminal(ctl, size), gapMs);
  }

  resize(size: TerminalSize): void {
    this.waiting = { rows: size.rows, columns: size.columns };
    if (!this.timer) this.sendOrWait();
  }

  /** Drops a size still waiting (the terminal is going away). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting = undefined;
  }

  /** Sends what waits once the gap is over; a timer may fire up to a millisecond early, so it looks again then. */
  private sendOrWait(): void {
    const wait = this.sentAt + this.gapMs - performance.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sendOrWait();
    }, Math.ceil(wait));
    this.timer.unref();
  }

  private flush(): void {
    const size = this.waiting;
    this.waiting = undefined;
    if (!size) return;
    this.sentAt = performance.now();
    this.send(size);
  }
}

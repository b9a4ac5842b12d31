/**
 * Container output for attached `up`, `logs` and `run`: `web-1  | line`, the prefix padded to the widest name and
 * coloured round-robin (compose `cmd/formatter/logs.go`, `colors.go`).
 */
import { Chalk } from 'chalk';
import type { LogConsumer } from '../../engine/logs.js';
import type { LogLine } from '../../runtime/runtime.js';

type Colour = (s: string) => string;

export interface LogPrinterOptions {
  readonly colour?: boolean;
  readonly prefix?: boolean;
  readonly timestamps?: boolean;
}

export class LogPrinter implements LogConsumer {
  private width = 0;
  private readonly colours = new Map<string, Colour>();
  private readonly palette: Colour[];
  private next = 0;

  constructor(
    private readonly stdout: NodeJS.WritableStream,
    private readonly stderr: NodeJS.WritableStream,
    private readonly options: LogPrinterOptions = {},
  ) {
    const c = new Chalk({ level: options.colour === false ? 0 : 1 });
    this.palette = [c.cyan, c.yellow, c.green, c.magenta, c.blue, c.cyanBright, c.yellowBright, c.greenBright, c.magentaBright, c.blueBright];
  }

  register(name: string): void {
    if (this.colours.has(name)) return;
    this.colours.set(name, this.palette[this.next++ % this.palette.length]!);
    this.width = Math.max(this.width, name.length);
  }

  private prefix(name: string): string {
    if (this.options.prefix === false) return '';
    this.register(name);
    return this.colours.get(name)!(`${name.padEnd(this.width + 1)}| `);
  }

  log(name: string, line: LogLine): void {
    const text = line.line.replace(/\r$/, '');
    const ts = this.options.timestamps && line.timestamp ? `${line.timestamp} ` : '';
    (line.stream === 'stderr' ? this.stderr : this.stdout).write(`${this.prefix(name)}${ts}${text}\n`);
  }

  status(name: string, text: string): void {
    this.register(name);
    this.stdout.write(`${this.colours.get(name)!(name)} ${text}\n`);
  }
}

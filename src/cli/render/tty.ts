/** `--progress tty`: an ora spinner headed `[+] Running n/m` over a repainted list of resources. */
import { Chalk } from 'chalk';
import ora, { type Ora } from 'ora';
import type { ProgressEvent } from '../../engine/events.js';
import type { Renderer } from './types.js';

interface Row {
  status: ProgressEvent['status'];
  text: string;
  details: string | undefined;
}

export class TtyRenderer implements Renderer {
  private readonly rows = new Map<string, Row>();
  private readonly spinner: Ora;
  private readonly c: InstanceType<typeof Chalk>;
  private stopped = false;

  constructor(stream: NodeJS.WriteStream, colour: boolean) {
    this.c = new Chalk({ level: colour ? 1 : 0 });
    this.spinner = ora({ stream, discardStdin: false, text: '' });
  }

  private render(): string {
    const total = this.rows.size;
    const finished = [...this.rows.values()].filter((r) => r.status !== 'working').length;
    const lines = [`Running ${finished}/${total}`];
    const width = Math.max(0, ...[...this.rows.keys()].map((k) => k.length));
    for (const [resource, r] of this.rows) {
      const mark =
        r.status === 'done'
          ? this.c.green('✔')
          : r.status === 'error'
            ? this.c.red('✘')
            : r.status === 'warning'
              ? this.c.yellow('!')
              : this.c.cyan('⠿');
      const text = r.status === 'error' ? this.c.red(r.text) : r.status === 'done' ? this.c.green(r.text) : r.text;
      lines.push(` ${mark} ${resource.padEnd(width)}  ${text}${r.details && r.status !== 'done' ? this.c.dim(` ${r.details.slice(0, 80)}`) : ''}`);
    }
    return lines.join('\n');
  }

  emit(e: ProgressEvent): void {
    if (this.stopped) return;
    this.rows.set(e.resource, { status: e.status, text: e.text, details: e.details });
    this.spinner.text = this.render();
    if (!this.spinner.isSpinning) this.spinner.start();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.rows.size === 0) {
      this.spinner.stop();
      return;
    }
    const failed = [...this.rows.values()].some((r) => r.status === 'error');
    this.spinner.stopAndPersist({ symbol: failed ? this.c.red('[+]') : this.c.blue('[+]'), text: this.render() });
  }
}

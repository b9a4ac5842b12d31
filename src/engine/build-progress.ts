/**
 * A build's progress as docker compose shows it: each step a numbered vertex (`#5 [web 3/7] RUN …`, then its output
 * lines `#5 0.412 …`, then `#5 DONE 1.2s` or `#5 CACHED`), the step line as the image's detail on a terminal.
 * Builders that only give text lines (Docker's classic builder) pass them through as they are.
 */
import type { BuildProgress } from '../runtime/runtime.js';
import type { ProgressEvent } from './events.js';

/** Vertex numbers, one sequence per command (the builds of one `up` or `build` never share a `#N`). */
export class VertexCounter {
  private next = 1;
  take(): number {
    return this.next++;
  }
}

export class BuildLog {
  private readonly vertices = new Map<string, { n: number; started: number; partial: string }>();

  constructor(
    private readonly resource: string,
    private readonly service: string,
    private readonly emit: (e: ProgressEvent) => void,
    private readonly counter: VertexCounter = new VertexCounter(),
  ) {}

  private vertex(id: string): { n: number; started: number; partial: string } {
    let v = this.vertices.get(id);
    if (!v) {
      v = { n: this.counter.take(), started: Date.now(), partial: '' };
      this.vertices.set(id, v);
    }
    return v;
  }

  private line(details: string, log: string): void {
    this.emit({ resource: this.resource, status: 'working', text: 'Building', details, log });
  }

  progress(p: BuildProgress): void {
    if (p.output) {
      const v = this.vertex(p.output.stepId);
      const lines = (v.partial + p.text).split('\n');
      v.partial = lines.pop() ?? '';
      const secs = ((Date.now() - v.started) / 1000).toFixed(3);
      for (const l of lines) this.line(l, `#${v.n} ${secs} ${l}`);
      return;
    }
    const s = p.step;
    if (!s) {
      // a builder's own numbered line (`#3 [internal] load build definition`): this command's number, the service
      const m = /^#(\d+) ([\s\S]*)$/.exec(p.text);
      if (!m) {
        this.line(p.text, p.text);
        return;
      }
      const rest = m[2]!.replace(/^\[([^\]]*)\]/, (_all, inner: string) => `[${this.service} ${inner}]`);
      this.line(rest, `#${this.vertex(`text:${m[1]}`).n} ${rest}`);
      return;
    }
    const v = this.vertex(s.id);
    const label = `[${this.service}${s.stage !== undefined ? ` ${s.stage}` : ''} ${s.number}/${s.total}] ${s.text.split('\n')[0] ?? ''}`;
    if (s.status === 'running') {
      v.started = Date.now();
      this.line(label, `#${v.n} ${label}`);
    } else if (s.status === 'cached') {
      this.line(`CACHED ${label}`, `#${v.n} ${label}\n#${v.n} CACHED`);
    } else {
      if (v.partial !== '') this.line(v.partial, `#${v.n} ${v.partial}`);
      v.partial = '';
      const secs = s.durationMs !== undefined ? ` ${(s.durationMs / 1000).toFixed(1)}s` : '';
      const error = s.status === 'error' && s.error !== undefined ? `: ${s.error}` : '';
      this.line(label, `#${v.n} ${s.status === 'done' ? 'DONE' : 'ERROR'}${secs}${error}`);
    }
  }
}

/**
 * `viz`: the project's dependency graph (docker compose pkg/compose/viz.go). DOT as compose writes it — a digraph
 * named after the project, `layout=dot`, one node per service with an HTML label (the service's name, and with the
 * options its networks by priority, ports `[ip:]published:target (protocol, mode)` and image), one edge from each
 * service to each service it depends on — but in a stable order (services and edges by name; compose walks a Go map).
 * `mermaid` is ours: a `flowchart TD` with the same nodes, labels and edges, for Markdown viewers. Pure.
 */
import { serviceImage } from '../../engine/labels.js';
import type { Project, ServiceConfig } from '../../project/types.js';

export interface VizOptions {
  readonly format?: 'dot' | 'mermaid' | undefined;
  readonly networks?: boolean | undefined;
  readonly ports?: boolean | undefined;
  readonly image?: boolean | undefined;
  /** One level of indentation (compose: `--indentation-size` tabs, or spaces with `--spaces`). Default a tab. */
  readonly indentation?: string | undefined;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** compose-go's NetworksByPriority: highest priority first, then by name. */
function networksByPriority(svc: ServiceConfig): string[] {
  return Object.entries(svc.networks ?? {})
    .sort(([a, x], [b, y]) => (y?.priority ?? 0) - (x?.priority ?? 0) || byName(a, b))
    .map(([n]) => n);
}

/** The label's sections after the name: `[title, lines]`. */
function sections(project: Project, name: string, svc: ServiceConfig, o: VizOptions): [string, string[]][] {
  const out: [string, string[]][] = [];
  const networks = networksByPriority(svc);
  if (o.networks && networks.length > 0) out.push(['Networks:', networks]);
  if (o.ports && (svc.ports?.length ?? 0) > 0) {
    out.push(['Ports:', svc.ports!.map((p) => `${p.host_ip ? `${p.host_ip}:` : ''}${p.published ?? ''}:${p.target} (${p.protocol}, ${p.mode})`)]);
  }
  if (o.image) out.push(['Image:', [serviceImage(project.name, name, svc)]]);
  return out;
}

function edges(project: Project): [string, string][] {
  const names = Object.keys(project.services).sort(byName);
  return names.flatMap((n) =>
    Object.keys(project.services[n]!.depends_on ?? {})
      .filter((d) => project.services[d] !== undefined)
      .sort(byName)
      .map((d): [string, string] => [n, d]),
  );
}

function dot(project: Project, o: VizOptions): string {
  const ind = o.indentation ?? '\t';
  const names = Object.keys(project.services).sort(byName);
  let s = `digraph "${project.name}" {\n${ind}layout=dot;\n`;
  for (const n of names) {
    s += `${ind}"${n}" [style="filled" label=<<font point-size="15">${n}</font>`;
    for (const [title, lines] of sections(project, n, project.services[n]!, o)) {
      const br =
        title === 'Image:'
          ? `<br/><br/><b>${title}</b><br/>${lines.join('<br/>')}`
          : `<br/><br/><b>${title}</b>${lines.map((l) => `<br/>${l}`).join('')}`;
      s += `<font point-size="10">${br}</font>`;
    }
    s += '>];\n';
  }
  s += '\n';
  for (const [from, to] of edges(project)) s += `${ind}"${from}" -> "${to}";\n`;
  return `${s}}\n`;
}

const mermaidText = (t: string): string => t.replace(/"/g, '#quot;');

function mermaid(project: Project, o: VizOptions): string {
  const ind = o.indentation ?? '\t';
  const names = Object.keys(project.services).sort(byName);
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  for (const n of names) {
    const base = `svc_${n.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let id = base;
    for (let i = 2; taken.has(id); i++) id = `${base}_${i}`;
    taken.add(id);
    ids.set(n, id);
  }
  let s = `---\ntitle: ${project.name}\n---\nflowchart TD\n`;
  for (const n of names) {
    const parts = [
      `<b>${n}</b>`,
      ...sections(project, n, project.services[n]!, o).map(([title, lines]) => [`<b>${title}</b>`, ...lines].join('<br/>')),
    ];
    s += `${ind}${ids.get(n)!}["${mermaidText(parts.join('<br/><br/>'))}"]\n`;
  }
  for (const [from, to] of edges(project)) s += `${ind}${ids.get(from)!} --> ${ids.get(to)!}\n`;
  return s;
}

export function vizText(project: Project, options: VizOptions = {}): string {
  return options.format === 'mermaid' ? mermaid(project, options) : dot(project, options);
}

/** What `tscompose check` prints: what was checked, the problems found (and repaired) as a table, or one JSON object. */
import type { StateCheckReport } from '../../runtime/runtime.js';
import { table } from './table.js';

export interface CheckFormat {
  readonly json?: boolean | undefined;
  /** The runtime's kind (`native`, `docker`). */
  readonly runtime: string;
  /** Whether the check was asked to repair. */
  readonly repair: boolean;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The report: a table of problems (with what `--repair` does or did), or with `json` one object on one line. */
export function checkText(report: StateCheckReport, f: CheckFormat): string {
  const left = report.problems.filter((p) => !p.repaired).length;
  if (f.json) {
    return `${JSON.stringify({ runtime: f.runtime, repair: f.repair, ok: left === 0, checked: report.checked, problems: report.problems })}\n`;
  }
  if (report.checked.length === 0 && report.problems.length === 0) {
    return `The ${f.runtime} runtime keeps no store or state of tscompose's own: nothing to check.\n`;
  }
  const lines = [`Checked (${f.runtime} runtime): ${report.checked.map((c) => `${c.area} ${c.count}`).join(', ')}`];
  if (report.problems.length === 0) return `${lines[0]}\nNo problems found.\n`;
  const rows = report.problems.map((p) => [
    p.area,
    p.subject,
    p.problem,
    p.repaired ? `repaired: ${p.repair ?? ''}` : p.repair ? (f.repair ? `NOT repaired: ${p.repair}` : `--repair: ${p.repair}`) : 'by hand',
  ]);
  const repaired = report.problems.length - left;
  let summary = `${plural(report.problems.length, 'problem')} found`;
  if (f.repair) summary += `, ${repaired} repaired, ${left} left`;
  else if (report.problems.some((p) => p.repair !== undefined)) summary += ' (`tscompose check --repair` does what the REPAIR column says)';
  return `${lines[0]}\n${table(['AREA', 'SUBJECT', 'PROBLEM', 'REPAIR'], rows)}${summary}\n`;
}

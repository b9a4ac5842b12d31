import { describe, expect, test } from '@jest/globals';
import { Template, TemplateError, goJson, renderFormat, tabwrite, templateText } from './template.js';

const rows = [
  { Name: 'p-web-1', Status: 'Up 2 minutes', Labels: { tier: 'front' }, Ports: ['80/tcp', '443/tcp'], Size: 3 },
  { Name: 'p-database-1', Status: 'Exited (0)', Labels: {}, Ports: [], Size: 12 },
];
const spec = { defaultTable: 'table {{.Name}}\\t{{.Status}}', headers: { Name: 'NAME', Status: 'STATUS' } };

describe('Template', () => {
  test('fields, nested map keys, literal text, strings and numbers', () => {
    expect(new Template('{{.Name}} is {{.Status}}').execute(rows[0])).toBe('p-web-1 is Up 2 minutes');
    expect(new Template('{{.Labels.tier}}/{{.Labels.none}}').execute(rows[0])).toBe('front/<no value>');
    expect(new Template('{{"x"}}{{3}}').execute({})).toBe('x3');
    expect(new Template('{{.Ports}} {{.Labels}}').execute(rows[0])).toBe('[80/tcp 443/tcp] map[tier:front]');
  });

  test('functions and pipelines: json, upper, lower, title, join, split, truncate, pad, println', () => {
    const t = (s: string): string => new Template(s).execute(rows[0]);
    expect(t('{{json .Labels}}')).toBe('{"tier":"front"}');
    expect(t('{{json .}}')).toBe(goJson(rows[0]));
    expect(t('{{upper .Name}} {{.Name | upper}} {{lower "AB"}} {{title "hello world"}}')).toBe('P-WEB-1 P-WEB-1 ab Hello World');
    expect(t('{{join .Ports ", "}}|{{split "a:b" ":"}}|{{truncate .Name 3}}|{{pad .Name 1 2}}|')).toBe('80/tcp, 443/tcp|[a b]|p-w| p-web-1  |');
    expect(t('{{println .Name}}')).toBe('p-web-1\n');
  });

  test('trim markers, comments', () => {
    expect(new Template('a  {{- .Name -}}  b{{/* note */}}').execute(rows[0])).toBe('ap-web-1b');
  });

  test('errors: an unknown field names the fields there are; control structures, unknown functions, unclosed actions', () => {
    expect(() => new Template('{{.Nope}}').execute(rows[0])).toThrow(/can't evaluate field Nope \(fields: Name, Status, Labels, Ports, Size\)/);
    expect(() => new Template('{{range .Ports}}x{{end}}')).toThrow(TemplateError);
    expect(() => new Template('{{frob .Name}}')).toThrow(/function "frob" not defined/);
    expect(() => new Template('{{.Name')).toThrow(/unclosed action/);
    expect(() => new Template('{{.Name "x"}}').execute(rows[0])).toThrow(/non-function/);
  });

  test('Go json escapes <, > and &', () => {
    expect(goJson({ a: '<b>&' })).toBe('{"a":"\\u003cb\\u003e\\u0026"}');
  });
});

describe('renderFormat', () => {
  test('table (the default): header row, cells aligned as docker tabwriter (min 10, padding 3)', () => {
    expect(renderFormat('table', rows, spec)).toBe('NAME           STATUS\np-web-1        Up 2 minutes\np-database-1   Exited (0)\n');
    expect(renderFormat('', rows, spec)).toBe(renderFormat('table', rows, spec));
  });

  test('table TEMPLATE: titles from the headers, other fields in capitals; short columns at least 10 wide', () => {
    expect(renderFormat('table {{.Size}}\\t{{.Name}}', rows, spec)).toBe('SIZE      NAME\n3         p-web-1\n12        p-database-1\n');
    expect(renderFormat('table {{.Name | upper}}', rows.slice(0, 1), spec)).toBe('NAME\nP-WEB-1\n');
  });

  test('a template without table: one line per item, tabs as they are, no header', () => {
    expect(renderFormat('{{.Name}}\\t{{.Status}}', rows, spec)).toBe('p-web-1\tUp 2 minutes\np-database-1\tExited (0)\n');
    expect(renderFormat('  {{.Name}}  ', rows.slice(0, 1), spec)).toBe('p-web-1\n');
  });

  test('json: one object per line', () => {
    const lines = renderFormat('json', rows, spec).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(rows);
  });

  test('templateText and tabwrite', () => {
    expect(templateText('table {{.A}}\\t{{.B}}\\n')).toBe('{{.A}}\t{{.B}}\n');
    expect(tabwrite('a\tbb\tc\nlonger-than-ten\tb\t')).toBe(`a${' '.repeat(17)}bb${' '.repeat(8)}c\nlonger-than-ten   b${' '.repeat(9)}`);
  });
});

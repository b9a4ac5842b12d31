import { describe, expect, test } from '@jest/globals';
import type { Project } from '../../project/types.js';
import { vizText } from './viz.js';

const project = {
  name: 'shop',
  services: {
    web: {
      image: 'nginx:1.27',
      depends_on: { db: { condition: 'service_healthy', required: true }, cache: { condition: 'service_started', required: true } },
      networks: { front: null, back: { priority: 10 } },
      ports: [
        { mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' },
        { mode: 'host', host_ip: '127.0.0.1', target: 53, published: '5353', protocol: 'udp' },
      ],
    },
    db: { image: 'postgres:16', networks: { back: null } },
    cache: { build: { context: '.' }, networks: { back: null } },
  },
} as unknown as Project;

describe('viz', () => {
  test('DOT as docker compose writes it (stable order)', () => {
    expect(vizText(project)).toBe(
      [
        'digraph "shop" {',
        '\tlayout=dot;',
        '\t"cache" [style="filled" label=<<font point-size="15">cache</font>>];',
        '\t"db" [style="filled" label=<<font point-size="15">db</font>>];',
        '\t"web" [style="filled" label=<<font point-size="15">web</font>>];',
        '',
        '\t"web" -> "cache";',
        '\t"web" -> "db";',
        '}',
        '',
      ].join('\n'),
    );
  });

  test('DOT with --networks --ports --image and two-space indentation', () => {
    const text = vizText(project, { networks: true, ports: true, image: true, indentation: '  ' });
    expect(text.split('\n')).toEqual([
      'digraph "shop" {',
      '  layout=dot;',
      '  "cache" [style="filled" label=<<font point-size="15">cache</font><font point-size="10"><br/><br/><b>Networks:</b><br/>back</font><font point-size="10"><br/><br/><b>Image:</b><br/>shop-cache</font>>];',
      '  "db" [style="filled" label=<<font point-size="15">db</font><font point-size="10"><br/><br/><b>Networks:</b><br/>back</font><font point-size="10"><br/><br/><b>Image:</b><br/>postgres:16</font>>];',
      '  "web" [style="filled" label=<<font point-size="15">web</font><font point-size="10"><br/><br/><b>Networks:</b><br/>back<br/>front</font>' +
        '<font point-size="10"><br/><br/><b>Ports:</b><br/>8080:80 (tcp, ingress)<br/>127.0.0.1:5353:53 (udp, host)</font>' +
        '<font point-size="10"><br/><br/><b>Image:</b><br/>nginx:1.27</font>>];',
      '',
      '  "web" -> "cache";',
      '  "web" -> "db";',
      '}',
      '',
    ]);
  });

  test('Mermaid: a flowchart with the same nodes and edges; ids safe for any service name', () => {
    expect(vizText(project, { format: 'mermaid' })).toBe(
      [
        '---',
        'title: shop',
        '---',
        'flowchart TD',
        '\tsvc_cache["<b>cache</b>"]',
        '\tsvc_db["<b>db</b>"]',
        '\tsvc_web["<b>web</b>"]',
        '\tsvc_web --> svc_cache',
        '\tsvc_web --> svc_db',
        '',
      ].join('\n'),
    );
    const odd = { name: 'p', services: { 'a-b': { depends_on: { 'a.b': {} } }, 'a.b': {}, end: { image: 'x"y' } } } as unknown as Project;
    expect(vizText(odd, { format: 'mermaid', image: true, indentation: ' ' }).split('\n').slice(4)).toEqual([
      ' svc_a_b["<b>a-b</b><br/><br/><b>Image:</b><br/>p-a-b"]',
      ' svc_a_b_2["<b>a.b</b><br/><br/><b>Image:</b><br/>p-a.b"]',
      ' svc_end["<b>end</b><br/><br/><b>Image:</b><br/>x#quot;y"]',
      ' svc_a_b --> svc_a_b_2',
      '',
    ]);
  });
});

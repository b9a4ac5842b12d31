import { describe, expect, it } from '@jest/globals';
import {
  acceptChain,
  canBind,
  iptablesRules,
  parseIptablesSave,
  pickFreePort,
  planIptables,
  portConflicts,
  portRules,
  removalScript,
  rulesFor,
  type FirewallNetwork,
} from './firewall.js';
import * as net from 'node:net';

const NET: FirewallNetwork = {
  bridge: 'tsc-deadbeef',
  subnet: '10.214.7.0/24',
  gateway: '10.214.7.1',
  internal: false,
  name: 'p_default',
  ports: [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp', containerIp: '10.214.7.2', owner: 'web-1' },
    { hostIp: '127.0.0.1', hostPort: 5432, containerPort: 5432, protocol: 'tcp', containerIp: '10.214.7.3' },
    { hostPort: 9000, containerPort: 9000, protocol: 'udp', containerIp: '10.214.7.3' },
    { hostIp: '127.0.0.1', hostPort: 7000, containerPort: 70, protocol: 'sctp', containerIp: '10.214.7.3' },
    { hostIp: '::1', hostPort: 7100, containerPort: 70, protocol: 'tcp', containerIp: '10.214.7.3' },
  ],
};

const GOLDEN = `table ip tsc-deadbeef
delete table ip tsc-deadbeef
table ip tsc-deadbeef {
	comment "tscompose network p_default"
	chain raw_prerouting {
		type filter hook prerouting priority raw; policy accept;
		iifname "tsc-deadbeef" ip daddr 127.0.0.0/8 counter drop comment "no host localhost from containers"
	}
	chain ports {
		tcp dport 8080 dnat to 10.214.7.2:80 comment "web-1"
		ip daddr 127.0.0.1 tcp dport 5432 dnat to 10.214.7.3:5432
		udp dport 9000 dnat to 10.214.7.3:9000
		ip daddr 127.0.0.1 sctp dport 7000 dnat to 10.214.7.3:70
	}
	chain nat_prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr != 127.0.0.0/8 fib daddr type local jump ports
	}
	chain nat_output {
		type nat hook output priority -100; policy accept;
		fib daddr type local jump ports
	}
	chain nat_postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "tsc-deadbeef" ct status dnat ip saddr { 127.0.0.0/8, 10.214.7.0/24 } masquerade comment "localhost and hairpin"
		oifname "tsc-deadbeef" ct status dnat iifname "tsc-*" masquerade comment "hairpin from other tscompose networks"
		oifname != "tsc-deadbeef" ip saddr 10.214.7.0/24 masquerade comment "outbound"
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname "tsc-deadbeef" iifname != "tsc-deadbeef" ct state established,related accept
		oifname "tsc-deadbeef" iifname != "tsc-deadbeef" ct status dnat accept comment "published ports"
		oifname "tsc-deadbeef" iifname != "tsc-deadbeef" counter drop comment "isolation"
	}
}
`;

const GOLDEN_INTERNAL = `table ip tsc-deadbeef
delete table ip tsc-deadbeef
table ip tsc-deadbeef {
	comment "tscompose network p_default"
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "tsc-deadbeef" oifname != "tsc-deadbeef" counter drop comment "internal: nothing leaves"
		oifname "tsc-deadbeef" iifname != "tsc-deadbeef" counter drop comment "internal: nothing enters"
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "tsc-deadbeef" ip daddr != 10.214.7.1 fib daddr type local counter drop comment "internal: host only via the gateway"
	}
}
`;

describe('rulesFor', () => {
  it('golden: bridge network with ports', () => expect(rulesFor(NET)).toBe(GOLDEN));
  it('golden: internal network (ports ignored)', () => expect(rulesFor({ ...NET, internal: true })).toBe(GOLDEN_INTERNAL));
  it('no ports: no DNAT chains', () => {
    const r = rulesFor({ ...NET, ports: [] });
    expect(r).not.toMatch(/chain ports|nat_prerouting|nat_output/);
    expect(r).toMatch(/masquerade comment "outbound"/);
  });
  it('validates', () => {
    expect(() => rulesFor({ ...NET, subnet: '10.214.7.1/24' })).toThrow(/host bits/);
    expect(() => portRules({ hostPort: 0, containerPort: 1, protocol: 'tcp', containerIp: '10.0.0.2' })).toThrow(/host port/);
    expect(() => portRules({ hostPort: 65536, containerPort: 1, protocol: 'tcp', containerIp: '10.0.0.2' })).toThrow(/host port/);
    expect(() => portRules({ hostPort: 1, containerPort: 1, protocol: 'icmp' as 'tcp', containerIp: '10.0.0.2' })).toThrow(/protocol/);
    expect(portRules({ hostIp: '127.0.0.1', hostPort: 9000, containerPort: 80, protocol: 'sctp', containerIp: '10.0.0.2' })).toEqual([
      'ip daddr 127.0.0.1 sctp dport 9000 dnat to 10.0.0.2:80',
    ]);
    expect(() => portRules({ hostIp: 'evil"; flush ruleset', hostPort: 1, containerPort: 1, protocol: 'tcp', containerIp: '10.0.0.2' })).toThrow(
      /invalid IPv4/,
    );
    expect(portRules({ hostPort: 1, containerPort: 1, protocol: 'tcp', containerIp: '10.0.0.2', owner: 'a"b\\c' })[0]).toMatch(/comment "abc"$/);
    expect(portRules({ hostIp: '0.0.0.0', hostPort: 1, containerPort: 2, protocol: 'udp', containerIp: '10.0.0.2' })).toEqual([
      'udp dport 1 dnat to 10.0.0.2:2',
    ]);
  });
  it('removal script is idempotent by construction', () => {
    expect(removalScript('tsc-deadbeef')).toBe('table ip tsc-deadbeef\ndelete table ip tsc-deadbeef\n');
  });
});

const DOCKER_SAVE = `# Generated by iptables-save v1.8.9 (nf_tables)
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -j DOCKER
-A DOCKER-USER -o tsc-deadbeef -m comment --comment "tscompose tsc-deadbeef" -j ACCEPT
-A DOCKER-USER -j RETURN
COMMIT
`;

describe('iptables coexistence', () => {
  it('chooses DOCKER-USER, else a dropping FORWARD, else nothing', () => {
    expect(acceptChain(parseIptablesSave(DOCKER_SAVE))).toBe('DOCKER-USER');
    expect(acceptChain(parseIptablesSave('*filter\n:FORWARD DROP [0:0]\nCOMMIT\n'))).toBe('FORWARD');
    expect(acceptChain(parseIptablesSave('*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j REJECT --reject-with icmp-host-prohibited\nCOMMIT\n'))).toBe(
      'FORWARD',
    );
    expect(acceptChain(parseIptablesSave('*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n'))).toBeUndefined();
    expect(acceptChain(parseIptablesSave(''))).toBeUndefined();
  });
  it('adds only what is missing; removes exactly ours', () => {
    const f = parseIptablesSave(DOCKER_SAVE);
    expect(planIptables(f, 'tsc-deadbeef', 'DOCKER-USER')).toBe(
      '*filter\n-I DOCKER-USER 1 -i tsc-deadbeef -m comment --comment "tscompose tsc-deadbeef" -j ACCEPT\nCOMMIT\n',
    );
    expect(planIptables(f, 'tsc-deadbeef', undefined)).toBe(
      '*filter\n-D DOCKER-USER -o tsc-deadbeef -m comment --comment "tscompose tsc-deadbeef" -j ACCEPT\nCOMMIT\n',
    );
    expect(planIptables(f, 'tsc-other000', undefined)).toBeUndefined();
    const full = parseIptablesSave(
      DOCKER_SAVE.replace('-A DOCKER-USER -j RETURN', `${iptablesRules('tsc-deadbeef', 'DOCKER-USER')[0]!}\n-A DOCKER-USER -j RETURN`),
    );
    expect(planIptables(full, 'tsc-deadbeef', 'DOCKER-USER')).toBeUndefined();
  });
});

describe('host ports', () => {
  it('conflicts: protocol, wildcard and specific IPs', () => {
    const taken = [
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' as const },
      { hostIp: '127.0.0.1', hostPort: 9009, containerPort: 9000, protocol: 'udp' as const },
    ];
    expect(portConflicts(taken, [{ hostPort: 8080, containerPort: 1, protocol: 'udp' }])).toEqual([]);
    expect(portConflicts(taken, [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 1, protocol: 'tcp' }])).toHaveLength(1);
    expect(portConflicts(taken, [{ hostIp: '127.0.0.2', hostPort: 9009, containerPort: 1, protocol: 'udp' }])).toEqual([]);
    expect(portConflicts(taken, [{ hostPort: 9009, containerPort: 1, protocol: 'udp' }])).toHaveLength(1);
    expect(portConflicts(taken, [{ hostPort: 9009, containerPort: 1, protocol: 'sctp' }])).toEqual([]);
    expect(
      portConflicts(
        [],
        [
          { hostPort: 1, containerPort: 1, protocol: 'tcp' },
          { hostPort: 1, containerPort: 2, protocol: 'tcp' },
        ],
      ),
    ).toHaveLength(1);
  });
  it('pickFreePort / canBind', async () => {
    const p = await pickFreePort('tcp', '127.0.0.1');
    expect(p).toBeGreaterThan(1023);
    expect(await canBind('tcp', p, '127.0.0.1')).toBe(true);
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(p, '127.0.0.1', () => r()));
    try {
      expect(await canBind('tcp', p, '127.0.0.1')).toBe(false);
      expect(await canBind('tcp', p)).toBe(false);
    } finally {
      srv.close();
    }
    const u = await pickFreePort('udp', undefined, new Set([p]));
    expect(u).not.toBe(p);
    expect(await canBind('udp', u)).toBe(true);
  });
});

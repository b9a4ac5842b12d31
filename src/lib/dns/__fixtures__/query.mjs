// DNS client for the resolver's integration test: node query.mjs '<json [{server, name, type, proto}]>'
// prints a JSON array of { rcode, answers: [data], aa } or { error }.
import dgram from 'node:dgram';
import net from 'node:net';
import { createRequire } from 'node:module';

const packet = createRequire(import.meta.url)('dns-packet');
const queries = JSON.parse(process.argv[2]);
let nextId = 1;

function viaUdp(server, msg) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(net.isIPv6(server) ? 'udp6' : 'udp4');
    const t = setTimeout(() => (s.close(), reject(new Error('timeout'))), 3000);
    s.on('error', (e) => (clearTimeout(t), s.close(), reject(e)));
    s.on('message', (m) => (clearTimeout(t), s.close(), resolve(m)));
    s.connect(53, server, () => s.send(msg));
  });
}

function viaTcp(server, msg) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const s = net.connect(53, server);
    const t = setTimeout(() => (s.destroy(), reject(new Error('timeout'))), 3000);
    s.on('error', (e) => (clearTimeout(t), reject(e)));
    s.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      s.write(Buffer.concat([len, msg]));
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        s.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
  });
}

const out = [];
for (const q of queries) {
  const id = nextId++;
  const msg = packet.encode({ id, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ name: q.name, type: q.type ?? 'A', class: 'IN' }] });
  try {
    const res = packet.decode(await (q.proto === 'tcp' ? viaTcp : viaUdp)(q.server, msg));
    out.push({ id: res.id === id, rcode: res.rcode, aa: res.flag_aa, answers: res.answers.map((a) => a.data) });
  } catch (e) {
    out.push({ error: e.code ?? e.message });
  }
}
process.stdout.write(JSON.stringify(out));

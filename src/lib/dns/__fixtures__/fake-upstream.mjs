// A fake upstream DNS server for the resolver's integration test (never a real resolver): UDP and TCP on
// <ip>:<port>. Single-label names: NXDOMAIN; A: 192.0.2.77 over UDP, 192.0.2.78 over TCP; other types: empty.
// Prints "ready" once bound; exits on SIGTERM or after 120 s.
import dgram from 'node:dgram';
import net from 'node:net';
import { createRequire } from 'node:module';

const packet = createRequire(import.meta.url)('dns-packet');
const [ip = '127.0.0.53', port = '53'] = process.argv.slice(2);

function answer(raw, proto) {
  const q = packet.decode(raw);
  const qq = q.questions[0];
  const single = !qq.name.replace(/\.$/, '').includes('.');
  const data = proto === 'udp' ? '192.0.2.77' : '192.0.2.78';
  process.stdout.write(`got ${proto} ${qq.type} ${qq.name}\n`);
  return packet.encode({
    id: q.id,
    type: 'response',
    flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (single ? 3 : 0),
    questions: q.questions,
    answers: !single && qq.type === 'A' ? [{ type: 'A', name: qq.name, ttl: 30, data }] : [],
  });
}

const udp = dgram.createSocket('udp4');
udp.on('message', (m, r) => udp.send(answer(m, 'udp'), r.port, r.address));
const tcp = net.createServer((s) => {
  let buf = Buffer.alloc(0);
  s.on('error', () => undefined);
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + msg.length);
      const res = answer(msg, 'tcp');
      const len = Buffer.alloc(2);
      len.writeUInt16BE(res.length);
      s.write(Buffer.concat([len, res]));
    }
  });
});
let bound = 0;
const ready = () => ++bound === 2 && process.stdout.write('ready\n');
udp.bind(Number(port), ip, ready);
tcp.listen(Number(port), ip, ready);
process.on('SIGTERM', () => process.exit(0));
setTimeout(() => process.exit(0), 120_000);

// Stands for a CLI run: registers one network with the resolver and exits.
// node cli-set.mjs <control.js path> <state dir> '<DnsNetwork json>' '<DnsOptions json>'
const [control, stateDir, net, opts] = process.argv.slice(2);
const { dnsSetNetwork } = await import(control);
const t = performance.now();
await dnsSetNetwork(stateDir, JSON.parse(net), JSON.parse(opts));
process.stdout.write(`${(performance.now() - t).toFixed(0)}\n`);

// Stands for a CLI run: registers one network with the resolver and exits.
// node cli-set.mjs <control.js path> <state dir> '<DnsNetwork json>' '<DnsOptions json>'
// (with `viaShell: true` in the options, it starts the resolver through a shell, as a `start` option does)
const [control, stateDir, net, opts] = process.argv.slice(2);
const { dnsSetNetwork } = await import(control);
const options = JSON.parse(opts);
if (options.viaShell) {
  // A starter as lib/proc/spawner's: a shell starts the resolver in the background and prints its pid.
  const { execFileSync } = await import('node:child_process');
  options.start = async ({ command, args, log, cwd, env }) => {
    const script = 'echo started by a shell >>"$0"; "$@" </dev/null >>"$0" 2>&1 & echo $!';
    return Number(execFileSync('/bin/sh', ['-c', script, log, command, ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' }).trim());
  };
}
const t = performance.now();
await dnsSetNetwork(stateDir, JSON.parse(net), options);
process.stdout.write(`${(performance.now() - t).toFixed(0)}\n`);

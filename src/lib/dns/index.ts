/**
 * Per-network DNS of the native runtime: service names, container names and aliases resolve to the container's
 * address on the networks the asking container shares with it; other names go to the host's resolvers. A detached
 * resolver process (./server.ts) serves every DNS-enabled network on its gateway address and outlives the CLI.
 * Also the text of the containers' /etc/hosts, /etc/hostname and /etc/resolv.conf, written in place (./files.ts).
 */
export {
  type DaemonStarter,
  type DnsOptions,
  type DnsStatus,
  dnsNetworks,
  dnsRemoveNetwork,
  dnsSetNetwork,
  dnsStatus,
  dnsStopAll,
} from './control.js';
export { DnsConfigError, DnsResolverError } from './errors.js';
export { networkFileName } from './paths.js';
export {
  type HostsOptions,
  type ResolvConfOptions,
  containerNameservers,
  hostnameFileFor,
  hostsFileFor,
  isLoopback,
  parseExtraHost,
  parseResolvConf,
  resolvConfFor,
  upstreamsFromResolvConf,
  writeInPlace,
} from './files.js';
export type { DnsEntry, DnsNetwork } from './records.js';

/**
 * The user namespace of a remapped container (dockerd's `userns-remap`, moby `daemon/oci_linux.go` WithNamespaces):
 * a new `user` namespace with one uid and one gid mapping, container 0 → the range's start. Pure, like the options
 * of ./spec-opts.ts; `input.userns` is set by the caller (../userns/mode.ts) only for remapped containers.
 *
 * The network namespace must belong to that user namespace: runc 1.1.5 `exec` (and so every healthcheck) joins the
 * user namespace first and then cannot join a network namespace the host's user namespace owns; sysfs cannot be
 * mounted for one either. The bridge network's namespace is made and configured by the host before `runc create`
 * (../netglue.ts), so for a remapped container runc makes a new one inside the user namespace and a `createRuntime`
 * hook (run by runc on the host once the container's namespaces exist, before its process starts) moves the
 * configured interfaces into it with their addresses and routes, then binds it at the host's name for it
 * (/run/netns/tsc-<id12>), where teardown, `network connect` and the resolver find it. dockerd does the same in
 * the other order (runc makes the namespace, libnetwork's prestart hook configures it).
 *
 * A container joining a remapped container's network namespace (`network_mode: service:`/`container:`) joins its
 * user namespace too (`userns.path`, bound by the hook at `/run/tscompose-userns/<range>/<id>.userns` on each start of the
 * joined container once a joiner made the file): in a user namespace of its own it could neither mount sysfs nor
 * be exec'd into.
 */
import { usernsRunDir } from '../userns/idmap.js';
import type { OciHook } from './spec-types.js';
import type { SpecOpt } from './spec-opts.js';

/**
 * The hook's script: `$1` is the netns name under /run/netns, `$2` the joiners' user-namespace file; the OCI state
 * (one line of JSON with the container's pid; runc writes `status` before `pid`, crun after) on stdin. IPv4 addresses (scope global) and routes (not the kernel's
 * own) are read from the old namespace and replayed in the new one (the bridge networks are IPv4). Eight processes.
 */
export const MOVE_NETNS_SCRIPT = `set -e
ns="$1"
pid=$(sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p')
[ -n "$pid" ] || exit 0
# Containers joining this one's network namespace join its user namespace through $2 (when one made it).
if [ -n "$2" ] && [ -e "$2" ]; then
  umount -l "$2" 2>/dev/null || true
  mount --bind "/proc/$pid/ns/user" "$2"
fi
[ -e "/run/netns/$ns" ] || exit 0
# One ip reads addresses and routes; awk writes the moves, then (after --) the replay.
out=$(printf 'address show scope global\\nroute show\\n' | ip -n "$ns" -o -4 -batch - | awk -v pid="$pid" '
  $3 == "inet" { if (!($2 in seen)) { seen[$2] = 1; links[++n] = $2 } addrs[++a] = "address replace " $4 " broadcast + dev " $2; next }
  / proto kernel / { next }
  $1 == "default" || / via / { routes[++r] = "route replace " $0 }
  END {
    for (i = 1; i <= n; i++) print "link set dev " links[i] " netns " pid
    print "--"; print "link set dev lo up"
    for (i = 1; i <= a; i++) print addrs[i]
    for (i = 1; i <= n; i++) print "link set dev " links[i] " up"
    for (i = 1; i <= r; i++) print routes[i]
  }')
moves=\${out%%--*}
[ -n "$moves" ] || exit 0
echo "$moves" | ip -n "$ns" -batch -
umount "/run/netns/$ns"
mount --bind "/proc/$pid/ns/net" "/run/netns/$ns"
echo "\${out#*--}" | ip -n "$ns" -batch -
`;

const HOOK_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

/** The createRuntime hook moving the host-made network namespace's interfaces into the container's (see above). */
export function moveNetnsHook(netnsName: string, usernsFile: string): OciHook {
  return {
    path: '/bin/sh',
    args: ['sh', '-c', MOVE_NETNS_SCRIPT, 'tscompose-userns-netns', netnsName, usernsFile],
    env: [...HOOK_ENV],
    timeout: 30,
  };
}

/** `linux.namespaces` gets `user` and the id mappings (after withNamespaces). */
export const withUserNamespace: SpecOpt = (s, { id, userns, network }) => {
  if (!userns) return;
  // Another container's user namespace (`network_mode: container:`, ../userns/join.ts), or a new one.
  s.linux.namespaces = [...s.linux.namespaces.filter((n) => n.type !== 'user'), { type: 'user', ...(userns.path ? { path: userns.path } : {}) }];
  s.linux.uidMappings = [{ containerID: 0, hostID: userns.uid, size: userns.size }];
  s.linux.gidMappings = [{ containerID: 0, hostID: userns.gid, size: userns.size }];
  if (typeof network === 'object' && network.netnsPath.startsWith('/run/netns/')) {
    s.linux.namespaces = s.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network' } : n));
    const hooks = (s.hooks ??= {});
    (hooks.createRuntime ??= []).push(moveNetnsHook(network.netnsPath.slice('/run/netns/'.length), `${usernsRunDir(userns)}/${id}.userns`));
  }
};

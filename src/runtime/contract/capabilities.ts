/** The runtime contract suite's view of an adapter (its own file so the suite's case files need not import the suite). */

/** What a backend really does that the fake only records. Real adapters have every flag true. */
export interface ContractCapabilities {
  /** Published ports accept TCP connections and UDP datagrams from the host (the fake has no sockets). */
  readonly reachablePorts: boolean;
  /** Containers on one network reach each other by name and alias (the fake has no DNS and no packets). */
  readonly dns: boolean;
  /** What a container writes to a named volume is there for the next container (the fake has no file system). */
  readonly volumeContent: boolean;
  /** Containers run their command: it reads what an attach forwards and writes what the attach reads (the fake runs nothing). */
  readonly processes: boolean;
}

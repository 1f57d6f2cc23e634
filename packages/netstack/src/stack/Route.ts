import type { Nic } from "./Nic";

/** A resolved path for packets to one destination. */
export interface Route {
  /** Outgoing NIC. */
  readonly nic: Nic;
  /** Source address to use. */
  readonly src: Uint8Array;
  /** Final destination. */
  readonly dst: Uint8Array;
  /** Next hop on the link: the destination itself or a gateway. */
  readonly nextHop: Uint8Array;
  /** True for IPv6. */
  readonly v6: boolean;
  /** The route table generation this was computed in; stale routes are looked up again. */
  readonly generation: number;
}

/** A row of the routing table. */
export interface RouteEntry {
  /** Destination network. */
  readonly destination: Uint8Array;
  /** Prefix length of the destination network. */
  readonly prefixLen: number;
  /** Gateway, or null for a directly connected network. */
  readonly gateway: Uint8Array | null;
  /** The NIC to send through. */
  readonly nic: Nic;
  /** Preference among equal prefixes; lower wins. */
  readonly metric: number;
}

import { formatAddress, linkLocalFromMac, parseAddress, prefixMatch, solicitedNodeAddress, formatIPv6 } from "../address";
import { bytesEqual } from "../bytes";
import { Counters } from "../Counters";
import { Errno } from "../errno";
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from "../header/ipv4";
import type { LinkEndpoint } from "../link/LinkEndpoint";
import { LoopbackEndpoint } from "../link/LoopbackEndpoint";
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM } from "../socket/constants";
import type { Socket } from "../socket/Socket";
import { PingSocket, PingSocketTable } from "../udp/PingSocket";
import { UdpProtocol } from "../udp/UdpProtocol";
import { UdpSocket } from "../udp/UdpSocket";
import { TcpProtocol, type TcpProtocolOptions } from "../tcp/TcpProtocol";
import { TcpSocket } from "../tcp/TcpSocket";
import { Icmp4 } from "./Icmp4";
import { Icmp6 } from "./Icmp6";
import { IPv4 } from "./IPv4";
import { IPv6 } from "./IPv6";
import { Nic, type NicAddress } from "./Nic";
import type { NeighborCacheOptions } from "./NeighborCache";
import type { Route, RouteEntry } from "./Route";
import type { TransportProtocol } from "./RxPacket";

/** Options of a stack. */
export interface StackOptions {
  /** Create the loopback interface "lo" with 127.0.0.1/8 and ::1/128; default true. */
  loopback?: boolean;
  /** TCP tunables. */
  tcp?: TcpProtocolOptions;
  /** Neighbour table tunables for every NIC. */
  neighbor?: NeighborCacheOptions;
}

/** Options of a NIC. */
export interface NicOptions {
  /** Interface name; default "ethN". */
  name?: string;
  /** Addresses in CIDR form, such as "10.0.0.1/24" or "fd00::1/64". */
  addresses?: string[];
  /** Add the EUI-64 link-local IPv6 address; default true. */
  linkLocal?: boolean;
}

/** A route to add: destination in CIDR form, optional gateway, outgoing NIC name. */
export interface RouteSpec {
  /** Destination network such as "0.0.0.0/0" or "fd00::/64". */
  destination: string;
  /** Gateway address, if the destination is not on the link. */
  gateway?: string;
  /** Outgoing NIC name. */
  nic: string;
  /** Lower wins among routes of equal prefix length; default 0. */
  metric?: number;
}

interface Flushable {
  flushOutput(): void;
}

/**
 * A user-space TCP/IP stack: NICs with their link endpoints, routes, the
 * network protocols, and the sockets. It has no global state; several stacks
 * can live in one process and talk over in-memory links.
 */
export class Stack {
  /** Counters of every layer. */
  readonly counters = new Counters();
  /** IPv4. */
  readonly ipv4: IPv4;
  /** IPv6. */
  readonly ipv6: IPv6;
  /** ICMPv4. */
  readonly icmp4: Icmp4;
  /** ICMPv6 and neighbour discovery. */
  readonly icmp6: Icmp6;
  /** TCP. */
  readonly tcp: TcpProtocol;
  /** UDP. */
  readonly udp: UdpProtocol;
  /** ICMP echo sockets. */
  readonly pingSockets: PingSocketTable;

  private readonly nics: Nic[] = [];
  private readonly routes: RouteEntry[] = [];
  private routeGeneration = 0;
  private readonly pendingOutput = new Set<Flushable>();
  private flushScheduled = false;
  private inFlush = false;
  private readonly neighborOptions: NeighborCacheOptions;
  private loopbackNic: Nic | null = null;
  private closed = false;

  constructor(options: StackOptions = {}) {
    this.neighborOptions = options.neighbor ?? {};
    this.ipv4 = new IPv4(this);
    this.ipv6 = new IPv6(this);
    this.icmp4 = new Icmp4(this);
    this.icmp6 = new Icmp6(this);
    this.tcp = new TcpProtocol(this, options.tcp ?? {});
    this.udp = new UdpProtocol(this);
    this.pingSockets = new PingSocketTable();
    if (options.loopback !== false) {
      this.loopbackNic = this.addNic(new LoopbackEndpoint(), { name: "lo", addresses: ["127.0.0.1/8", "::1/128"], linkLocal: false });
    }
  }

  /** Adds a NIC over `link`, with its addresses and their subnet routes. */
  addNic(link: LinkEndpoint, options: NicOptions = {}): Nic {
    const nic = new Nic(this, this.nics.length + 1, options.name ?? `eth${this.nics.length}`, link, this.neighborOptions);
    this.nics.push(nic);
    link.attach(nic);
    if (!nic.loopback && options.linkLocal !== false) this.addAddress(nic.name, `${formatIPv6(linkLocalFromMac(link.linkAddress), 0)}/64`);
    for (const a of options.addresses ?? []) this.addAddress(nic.name, a);
    return nic;
  }

  /** Looks up a NIC by name. */
  nic(name: string): Nic | null {
    return this.nics.find((n) => n.name === name) ?? null;
  }

  /** Lists the NICs. */
  listNics(): readonly Nic[] {
    return this.nics;
  }

  /** Adds an address in CIDR form to a NIC, with a route to its subnet. Throws on bad input. */
  addAddress(nicName: string, cidr: string): void {
    const nic = this.requireNic(nicName);
    const [text, lenText] = cidr.split("/");
    const bytes = parseAddress(text);
    if (bytes === null) throw new TypeError(`invalid address: ${cidr}`);
    const v6 = bytes.length === 16;
    const prefixLen = lenText === undefined ? (v6 ? 128 : 32) : Number(lenText);
    if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > bytes.length * 8) throw new TypeError(`invalid prefix length: ${cidr}`);
    let broadcast: Uint8Array | null = null;
    if (!v6 && prefixLen < 31) {
      broadcast = bytes.slice();
      for (let bit = prefixLen; bit < 32; bit++) broadcast[bit >>> 3] |= 0x80 >>> (bit & 7);
    }
    const address: NicAddress = { address: formatAddress(bytes, 0, bytes.length), bytes, prefixLen, v6, broadcast };
    nic.addresses.push(address);
    if (v6) nic.multicast6.add(formatIPv6(solicitedNodeAddress(bytes), 0));
    const network = bytes.slice();
    for (let bit = prefixLen; bit < bytes.length * 8; bit++) network[bit >>> 3] &= ~(0x80 >>> (bit & 7));
    this.routes.push({ destination: network, prefixLen, gateway: null, nic, metric: 0 });
    this.routeGeneration++;
  }

  /** Adds a route. Throws on bad input. */
  addRoute(spec: RouteSpec): void {
    const nic = this.requireNic(spec.nic);
    const [text, lenText] = spec.destination.split("/");
    const destination = parseAddress(text);
    if (destination === null) throw new TypeError(`invalid destination: ${spec.destination}`);
    const prefixLen = lenText === undefined ? destination.length * 8 : Number(lenText);
    if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > destination.length * 8) throw new TypeError(`invalid prefix length: ${spec.destination}`);
    let gateway: Uint8Array | null = null;
    if (spec.gateway !== undefined) {
      gateway = parseAddress(spec.gateway);
      if (gateway === null || gateway.length !== destination.length) throw new TypeError(`invalid gateway: ${spec.gateway}`);
    }
    this.routes.push({ destination, prefixLen, gateway, nic, metric: spec.metric ?? 0 });
    this.routeGeneration++;
  }

  /** Sets the default IPv4 or IPv6 gateway (the family follows the address). */
  setDefaultGateway(gateway: string, nicName: string): void {
    this.addRoute({ destination: gateway.includes(":") ? "::/0" : "0.0.0.0/0", gateway, nic: nicName, metric: 100 });
  }

  /** Lists the routing table as text rows. */
  listRoutes(): { destination: string; gateway: string | null; nic: string; metric: number }[] {
    return this.routes.map((r) => ({
      destination: `${formatAddress(r.destination, 0, r.destination.length)}/${r.prefixLen}`,
      gateway: r.gateway === null ? null : formatAddress(r.gateway, 0, r.gateway.length),
      nic: r.nic.name,
      metric: r.metric,
    }));
  }

  /** The current route table generation; cached routes from an older one must be looked up again. */
  get generation(): number {
    return this.routeGeneration;
  }

  private requireNic(name: string): Nic {
    const nic = this.nic(name);
    if (nic === null) throw new TypeError(`no such NIC: ${name}`);
    return nic;
  }

  /** Finds the local address equal to the bytes at `off`, on any NIC. */
  findLocalAddress(buf: Uint8Array, off: number, len: number): NicAddress | null {
    for (const nic of this.nics) {
      const a = nic.findAddress(buf, off, len);
      if (a !== null) return a;
    }
    return null;
  }

  /**
   * Finds the route to `dst`. A local destination goes through loopback.
   * `src` (optional) must be a local address; `nic` (optional) restricts the
   * lookup to one NIC. Returns null if there is no route.
   */
  findRoute(dst: Uint8Array, src: Uint8Array | null, nic: Nic | null): Route | null {
    const v6 = dst.length === 16;
    if (this.findLocalAddress(dst, 0, dst.length) !== null && this.loopbackNic !== null && (nic === null || nic.loopback || src === null || bytesEqual(src, 0, dst, 0, dst.length))) {
      return { nic: this.loopbackNic, src: src ?? dst, dst, nextHop: dst, v6, generation: this.routeGeneration };
    }
    const multicast = v6 ? dst[0] === 0xff : (dst[0] & 0xf0) === 0xe0 || (dst[0] === 255 && dst[1] === 255 && dst[2] === 255 && dst[3] === 255);
    let best: RouteEntry | null = null;
    for (const r of this.routes) {
      if (r.destination.length !== dst.length || (nic !== null && r.nic !== nic) || r.nic.loopback) continue;
      if (!prefixMatch(dst, 0, r.destination, r.prefixLen) && !(multicast && r.gateway === null)) continue;
      if (best === null || r.prefixLen > best.prefixLen || (r.prefixLen === best.prefixLen && r.metric < best.metric)) best = r;
    }
    if (best === null) return null;
    const nextHop = best.gateway ?? dst;
    let source = src;
    if (source === null) {
      const a = best.nic.sourceFor(v6, best.gateway ?? dst);
      if (a === null) return null;
      source = a.bytes;
    }
    return { nic: best.nic, src: source, dst, nextHop, v6, generation: this.routeGeneration };
  }

  /** Returns the transport protocol for a protocol number, or null. */
  transport(protocol: number): TransportProtocol | null {
    if (protocol === IPPROTO_TCP) return this.tcp;
    if (protocol === IPPROTO_UDP) return this.udp;
    return null;
  }

  /**
   * Creates a socket, as socket(2). Returns a negative errno for an unknown
   * family (-EAFNOSUPPORT), type (-ESOCKTNOSUPPORT) or protocol (-EPROTONOSUPPORT).
   */
  socket(domain: number, type: number, protocol = 0): Socket | number {
    if (this.closed) return -Errno.ENETDOWN;
    if (domain !== AF_INET && domain !== AF_INET6) return -Errno.EAFNOSUPPORT;
    const v6 = domain === AF_INET6;
    if (type === SOCK_STREAM) {
      if (protocol !== 0 && protocol !== IPPROTO_TCP) return -Errno.EPROTONOSUPPORT;
      return new TcpSocket(this.tcp, v6);
    }
    if (type === SOCK_DGRAM) {
      if (protocol === 0 || protocol === IPPROTO_UDP) return new UdpSocket(this.udp, v6);
      if ((!v6 && protocol === IPPROTO_ICMP) || (v6 && protocol === IPPROTO_ICMPV6)) return new PingSocket(this, v6);
      return -Errno.EPROTONOSUPPORT;
    }
    return -Errno.ESOCKTNOSUPPORT;
  }

  /**
   * Queues `item` to write its pending output when the current batch of
   * received frames ends, or in a microtask when called from user code, so
   * that several sends or ACKs in a row leave as few segments as possible.
   */
  scheduleOutput(item: Flushable): void {
    this.pendingOutput.add(item);
    if (!this.flushScheduled && !this.inFlush) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes all pending output now. Called by the NICs after each batch of frames. */
  flush(): void {
    this.flushScheduled = false;
    if (this.inFlush) return;
    this.inFlush = true;
    try {
      for (let round = 0; round < 4 && this.pendingOutput.size > 0; round++) {
        const items = [...this.pendingOutput];
        this.pendingOutput.clear();
        for (const item of items) item.flushOutput();
      }
    } finally {
      this.inFlush = false;
    }
    if (this.pendingOutput.size > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Closes every socket and link endpoint. The stack cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tcp.closeAll();
    this.udp.closeAll();
    this.pingSockets.closeAll();
    this.ipv4.reassembler.clear();
    this.ipv6.reassembler.clear();
    for (const nic of this.nics) {
      nic.arp.clear();
      nic.ndp.clear();
      nic.link.attach(null);
      nic.link.close();
    }
  }
}

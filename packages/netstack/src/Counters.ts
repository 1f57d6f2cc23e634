/**
 * Stack counters named as in Linux's /proc/net/snmp, /proc/net/snmp6 and
 * /proc/net/netstat, plus a table of drops by reason. Fields are plain
 * numbers that protocol code increments directly.
 */
export class Counters {
  /** IPv4 counters (the "Ip:" lines of /proc/net/snmp). */
  readonly ip = {
    InReceives: 0,
    InHdrErrors: 0,
    InAddrErrors: 0,
    InUnknownProtos: 0,
    InDiscards: 0,
    InDelivers: 0,
    OutRequests: 0,
    OutDiscards: 0,
    OutNoRoutes: 0,
    ReasmTimeout: 0,
    ReasmReqds: 0,
    ReasmOKs: 0,
    ReasmFails: 0,
    FragOKs: 0,
    FragFails: 0,
    FragCreates: 0,
  };

  /** IPv6 counters (the "Ip6" lines of /proc/net/snmp6). */
  readonly ip6 = {
    InReceives: 0,
    InHdrErrors: 0,
    InAddrErrors: 0,
    InUnknownProtos: 0,
    InDiscards: 0,
    InDelivers: 0,
    OutRequests: 0,
    OutNoRoutes: 0,
    ReasmTimeout: 0,
    ReasmReqds: 0,
    ReasmOKs: 0,
    ReasmFails: 0,
    FragCreates: 0,
  };

  /** ICMPv4 counters. */
  readonly icmp = {
    InMsgs: 0,
    InErrors: 0,
    InCsumErrors: 0,
    InDestUnreachs: 0,
    InTimeExcds: 0,
    InEchos: 0,
    InEchoReps: 0,
    OutMsgs: 0,
    OutDestUnreachs: 0,
    OutTimeExcds: 0,
    OutEchos: 0,
    OutEchoReps: 0,
    OutRateLimited: 0,
  };

  /** ICMPv6 counters. */
  readonly icmp6 = {
    InMsgs: 0,
    InErrors: 0,
    InCsumErrors: 0,
    InDestUnreachs: 0,
    InTimeExcds: 0,
    InParmProblems: 0,
    InEchos: 0,
    InEchoReplies: 0,
    InNeighborSolicits: 0,
    InNeighborAdvertisements: 0,
    OutMsgs: 0,
    OutDestUnreachs: 0,
    OutParmProblems: 0,
    OutTimeExcds: 0,
    OutEchos: 0,
    OutEchoReplies: 0,
    OutNeighborSolicits: 0,
    OutNeighborAdvertisements: 0,
  };

  /** TCP counters (the "Tcp:" lines of /proc/net/snmp). */
  readonly tcp = {
    ActiveOpens: 0,
    PassiveOpens: 0,
    AttemptFails: 0,
    EstabResets: 0,
    CurrEstab: 0,
    InSegs: 0,
    OutSegs: 0,
    RetransSegs: 0,
    InErrs: 0,
    OutRsts: 0,
    InCsumErrors: 0,
  };

  /** TCP extended counters (a subset of "TcpExt:" in /proc/net/netstat). */
  readonly tcpExt = {
    SyncookiesSent: 0,
    SyncookiesRecv: 0,
    SyncookiesFailed: 0,
    ListenOverflows: 0,
    ListenDrops: 0,
    PAWSEstab: 0,
    TCPChallengeACK: 0,
    TCPFastRetrans: 0,
    TCPTimeouts: 0,
    TCPSackRecovery: 0,
    TCPRenoRecovery: 0,
    TCPOFOQueue: 0,
    TCPOFODrop: 0,
    TCPAbortOnData: 0,
    TCPAbortOnTimeout: 0,
    TCPKeepAliveProbes: 0,
    TCPZeroWindowProbes: 0,
    TCPRcvQDrop: 0,
    TCPBadOptions: 0,
    TCPTimeWaitRecycled: 0,
    DelayedACKs: 0,
  };

  /** UDP counters (the "Udp:" lines of /proc/net/snmp). */
  readonly udp = {
    InDatagrams: 0,
    NoPorts: 0,
    InErrors: 0,
    OutDatagrams: 0,
    RcvbufErrors: 0,
    InCsumErrors: 0,
  };

  /** Link and Ethernet counters. */
  readonly link = {
    RxFrames: 0,
    TxFrames: 0,
    RxDropped: 0,
    TxDropped: 0,
  };

  /** ARP and neighbour discovery counters. */
  readonly neigh = {
    ArpRequestsIn: 0,
    ArpRepliesIn: 0,
    ArpRequestsOut: 0,
    ArpRepliesOut: 0,
    ResolutionFailures: 0,
    UnresolvedDiscards: 0,
  };

  private readonly dropTable = new Map<string, number>();

  /** Counts one dropped packet under `reason`, such as "tcp-bad-checksum". */
  drop(reason: string): void {
    this.dropTable.set(reason, (this.dropTable.get(reason) ?? 0) + 1);
  }

  /** Returns the drop counts by reason. */
  drops(): Record<string, number> {
    return Object.fromEntries(this.dropTable);
  }

  /** Returns the total of all drops. */
  totalDrops(): number {
    let n = 0;
    for (const v of this.dropTable.values()) n += v;
    return n;
  }

  /** Returns a deep copy of every counter group. */
  snapshot(): Record<string, Record<string, number>> {
    return {
      Ip: { ...this.ip },
      Ip6: { ...this.ip6 },
      Icmp: { ...this.icmp },
      Icmp6: { ...this.icmp6 },
      Tcp: { ...this.tcp },
      TcpExt: { ...this.tcpExt },
      Udp: { ...this.udp },
      Link: { ...this.link },
      Neigh: { ...this.neigh },
      Drops: this.drops(),
    };
  }

  /** Formats the counters as /proc/net/snmp does: a name line, then a value line, per group. */
  format(): string {
    const lines: string[] = [];
    for (const [group, values] of Object.entries(this.snapshot())) {
      const keys = Object.keys(values);
      lines.push(`${group}: ${keys.join(" ")}`);
      lines.push(`${group}: ${keys.map((k) => values[k]).join(" ")}`);
    }
    return `${lines.join("\n")}\n`;
  }
}

import { Errno } from "../errno";

/**
 * Port numbers in use by one transport protocol. Each port has a count of
 * users; ephemeral ports come from Linux's default ip_local_port_range,
 * 32768 to 60999.
 */
export class PortTable {
  private readonly users = new Map<number, number>();
  private next: number;

  constructor(readonly low = 32768, readonly high = 60999) {
    this.next = low + Math.floor(Math.random() * (high - low + 1));
  }

  /** Number of users of `port`. */
  usersOf(port: number): number {
    return this.users.get(port) ?? 0;
  }

  /** Adds a user of `port`. */
  take(port: number): void {
    this.users.set(port, this.usersOf(port) + 1);
  }

  /** Removes a user of `port`. */
  release(port: number): void {
    const n = this.usersOf(port) - 1;
    if (n <= 0) this.users.delete(port);
    else this.users.set(port, n);
  }

  /** Takes a free ephemeral port, or returns -EADDRNOTAVAIL if the range is used up. */
  allocate(): number {
    const span = this.high - this.low + 1;
    for (let i = 0; i < span; i++) {
      const port = this.next;
      this.next = port === this.high ? this.low : port + 1;
      if (!this.users.has(port)) {
        this.take(port);
        return port;
      }
    }
    return -Errno.EADDRNOTAVAIL;
  }
}

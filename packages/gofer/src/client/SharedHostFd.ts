import { closeSync } from "node:fs";

/**
 * A host descriptor that several open files read through, with pread at
 * their own offsets. It is closed when the last holder lets go.
 */
export class SharedHostFd {
  private holders = 1;

  constructor(readonly fd: number) {}

  /** Adds a holder. */
  hold(): this {
    this.holders++;
    return this;
  }

  /** Removes a holder; the last one closes the descriptor. */
  release(): void {
    if (--this.holders === 0) closeSync(this.fd);
  }
}

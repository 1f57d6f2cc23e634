// The handoff of a gofer that a launcher started beside its client (runsc's
// bin/runsc): the gofer listens on an abstract AF_UNIX address named after
// its parent, the client, and serves the first connection that its parent
// makes. Each side checks the other's pid (SO_PEERCRED), because any process
// in the network namespace can bind or connect to an abstract address.

/** Returns the abstract address, without the leading NUL, that the gofer of process `parentPid` listens on. */
export function handoffAddress(parentPid: number): string {
  return `@sandbox/gofer/handoff/${parentPid}`;
}

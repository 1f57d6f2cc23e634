import type { AddressSpace } from "@sandbox/platform";

const PAGE = 4096;

/** One call the memory manager made on a RecordingAddressSpace. */
export type AddressSpaceCall =
  | { readonly op: "mapFile"; readonly addr: number; readonly length: number; readonly offset: number; readonly prot: number }
  | { readonly op: "unmap"; readonly addr: number; readonly length: number }
  | { readonly op: "protect"; readonly addr: number; readonly length: number; readonly prot: number };

/** What one page of a RecordingAddressSpace maps. */
export interface InstalledPage {
  readonly offset: number;
  readonly prot: number;
}

/**
 * An AddressSpace for tests: it records every call and keeps a per-page
 * model of what a real host address space would map after those calls, so
 * a test can check that mm's pmas and the host agree.
 */
export class RecordingAddressSpace implements AddressSpace {
  readonly calls: AddressSpaceCall[] = [];
  readonly pages = new Map<number, InstalledPage>();
  released = false;

  mapFile(addr: number, length: number, offset: number, prot: number): void {
    checkAligned(addr, length);
    checkAligned(offset, 0);
    this.calls.push({ op: "mapFile", addr, length, offset, prot });
    for (let i = 0; i < length; i += PAGE) {
      this.pages.set(addr + i, { offset: offset + i, prot });
    }
  }

  unmap(addr: number, length: number): void {
    checkAligned(addr, length);
    this.calls.push({ op: "unmap", addr, length });
    for (let i = 0; i < length; i += PAGE) {
      this.pages.delete(addr + i);
    }
  }

  protect(addr: number, length: number, prot: number): void {
    checkAligned(addr, length);
    this.calls.push({ op: "protect", addr, length, prot });
    for (let i = 0; i < length; i += PAGE) {
      const page = this.pages.get(addr + i);
      if (page !== undefined) {
        this.pages.set(addr + i, { offset: page.offset, prot });
      }
    }
  }

  release(): void {
    this.released = true;
  }

  /** Returns the recorded calls and clears the record. */
  takeCalls(): AddressSpaceCall[] {
    return this.calls.splice(0);
  }

  /** Returns what the page at `addr` maps, if anything. */
  page(addr: number): InstalledPage | undefined {
    return this.pages.get(addr - (addr % PAGE));
  }
}

function checkAligned(addr: number, length: number): void {
  if (addr % PAGE !== 0 || length % PAGE !== 0 || length < 0) {
    throw new Error(`unaligned address space call: ${addr}+${length}`);
  }
}

import { type AddressSpace, type AddressRange, Prot } from "@sandbox/platform";
import { Layout } from "./stub/image.generated";
import type { StubProcess } from "./StubProcess";

const PAGE_SIZE = 4096;
const ALL_PROT = Prot.Read | Prot.Write | Prot.Exec;

/**
 * An application address space under systrap: one stub process. The next
 * stub thread switched in makes the mappings of the memory file, or else
 * the executor thread does (see StubProcess.queueMap). The executor makes
 * unmaps and protection changes, after every mapping asked for before them.
 *
 * A request the host refuses (it cannot be caused by a correct Sentry, only
 * by host exhaustion or an application that forged the request) kills the
 * stub process: every context in it then returns SIGKILL, and later calls
 * do nothing. Arguments that are wrong in themselves throw RangeError.
 */
export class SystrapAddressSpace implements AddressSpace {
  constructor(
    /** The stub process that is this address space on the host. */
    readonly process: StubProcess,
    private readonly userRange: AddressRange,
    /** Takes the process back when the address space is released; it recycles or kills it. */
    private readonly onRelease: (process: StubProcess) => void = (process) => process.kill("its address space was released"),
  ) {}

  mapFile(addr: number, length: number, offset: number, prot: number): void {
    this.checkRange(addr, length);
    this.checkProt(prot);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % PAGE_SIZE !== 0) {
      throw new RangeError(`memory file offset ${offset} is not a page-aligned non-negative integer`);
    }
    this.process.queueMap(addr, length, prot, offset);
  }

  unmap(addr: number, length: number): void {
    this.checkRange(addr, length);
    this.process.flushMaps();
    this.call(Layout.OP_MUNMAP, addr, length, 0, 0, "munmap");
  }

  protect(addr: number, length: number, prot: number): void {
    this.checkRange(addr, length);
    this.checkProt(prot);
    this.process.flushMaps();
    this.call(Layout.OP_MPROTECT, addr, length, prot, 0, "mprotect");
  }

  release(): void {
    this.onRelease(this.process);
  }

  private call(op: number, addr: number, length: number, prot: number, offset: number, name: string): void {
    if (this.process.dead) return;
    const { result } = this.process.request(op, addr, length, prot, offset);
    if (result !== 0n && !this.process.dead) {
      this.process.kill(`${name}(0x${addr.toString(16)}, 0x${length.toString(16)}) failed with errno ${-result}`);
    }
  }

  private checkRange(addr: number, length: number): void {
    const { start, end } = this.userRange;
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr % PAGE_SIZE !== 0 || length % PAGE_SIZE !== 0) {
      throw new RangeError(`range 0x${addr.toString(16)}+0x${length.toString(16)} is not page-aligned integers`);
    }
    if (length <= 0 || addr < start || addr + length > end) {
      throw new RangeError(`range 0x${addr.toString(16)}+0x${length.toString(16)} is outside [0x${start.toString(16)}, 0x${end.toString(16)})`);
    }
  }

  private checkProt(prot: number): void {
    if (!Number.isInteger(prot) || (prot & ~ALL_PROT) !== 0) throw new RangeError(`invalid protection ${prot}`);
  }
}

import { MemoryFile } from "../../mm/src/memory-file";
import { type AddressSpace, Prot } from "@sandbox/platform";
import { SystrapPlatform, type SystrapOptions } from "../src/SystrapPlatform";
import type { SystrapAddressSpace } from "../src/SystrapAddressSpace";
import type { SystrapContext } from "../src/SystrapContext";

const PAGE = 4096;
const PT_LOAD = 1;

/**
 * A systrap platform over a real memfd for tests, with a bump allocator of
 * memory file pages and loaders for raw code and static ELF programs.
 * `dispose` ends every stub and closes the memfd.
 */
export class Sandbox {
  readonly memoryFile = MemoryFile.create("systrap-test");
  readonly platform: SystrapPlatform;
  private nextOffset = 0;

  constructor(options: Partial<SystrapOptions> = {}) {
    this.platform = new SystrapPlatform({ ...options, memoryFile: this.memoryFile });
  }

  newAddressSpace(): SystrapAddressSpace {
    return this.platform.newAddressSpace() as SystrapAddressSpace;
  }

  /** Allocates `length` bytes (page-rounded) of the memory file holding `data`; returns the offset. */
  allocate(length: number, data?: Uint8Array): number {
    const size = Math.ceil(Math.max(length, 1) / PAGE) * PAGE;
    const offset = this.nextOffset;
    this.nextOffset += size;
    this.memoryFile.grow(this.nextOffset);
    if (data) this.memoryFile.write(offset, data);
    return offset;
  }

  /** Maps fresh memory holding `data` at `addr`; returns its memory file offset. */
  map(as: AddressSpace, addr: number, length: number, prot: number, data?: Uint8Array): number {
    const offset = this.allocate(length, data);
    as.mapFile(addr, Math.ceil(length / PAGE) * PAGE, offset, prot);
    return offset;
  }

  /** Loads the PT_LOAD segments of a static ELF executable; returns its entry point. */
  loadElf(as: AddressSpace, elf: Uint8Array): number {
    const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
    const phoff = Number(view.getBigUint64(32, true));
    const phentsize = view.getUint16(54, true);
    const phnum = view.getUint16(56, true);
    for (let i = 0; i < phnum; i++) {
      const ph = phoff + i * phentsize;
      if (view.getUint32(ph, true) !== PT_LOAD) continue;
      const flags = view.getUint32(ph + 4, true);
      const fileOffset = Number(view.getBigUint64(ph + 8, true));
      const vaddr = Number(view.getBigUint64(ph + 16, true));
      const filesz = Number(view.getBigUint64(ph + 32, true));
      const memsz = Number(view.getBigUint64(ph + 40, true));
      const start = vaddr - (vaddr % PAGE);
      const length = Math.ceil((vaddr + memsz - start) / PAGE) * PAGE;
      const image = new Uint8Array(length);
      image.set(elf.subarray(fileOffset, fileOffset + filesz), vaddr - start);
      const prot = (flags & 4 ? Prot.Read : 0) | (flags & 2 ? Prot.Write : 0) | (flags & 1 ? Prot.Exec : 0);
      this.map(as, start, length, prot, image);
    }
    return Number(view.getBigUint64(24, true));
  }

  /** Reads `length` bytes at memory file `offset`. */
  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.memoryFile.read(offset, out);
    return out;
  }

  newContext(): SystrapContext {
    return this.platform.newContext() as SystrapContext;
  }

  dispose(): void {
    this.platform.close();
    this.memoryFile.close();
  }
}

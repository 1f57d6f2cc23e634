import { Prot } from "@sandbox/platform";
import { type GuestMemory, PAGE_SIZE } from "./guest-memory";

/** Page-table entry bits (Intel SDM vol. 3, 4.5). */
export const enum Pte {
  Present = 1,
  Writable = 2,
  User = 4,
}

/**
 * A software bit (9, ignored by the MMU) that marks a not-present entry as a
 * PROT_NONE mapping: it keeps its target so `protect` can restore it, and a
 * fault on it is an access error, not a missing mapping.
 */
const PROT_NONE_MARK = 0x200;

/** The NX bit (bit 63) as a bit of the entry's high 32-bit word. */
const NX_HIGH = 0x8000_0000;
/** Bits 51:32 of a physical address in the entry's high word. */
const ADDRESS_HIGH_MASK = 0x000f_ffff;
const ENTRIES = 512;
const TWO_32 = 0x1_0000_0000;
/** Levels from the root: PML4, PDPT, PD, PT; each index takes 9 bits from this shift. */
const LEVEL_SHIFTS = [39, 30, 21, 12] as const;

/** What a virtual page translates to. */
export interface Translation {
  readonly gpa: number;
  readonly prot: number;
}

/**
 * One address space's 4-level page tables in the platform's guest memory.
 * The root's entry for the top 512 GiB of the lower half is shared by every
 * address space and points at the platform's own tables (the trampoline).
 * Leaves are 4 KiB pages with the user bit, the writable bit for Prot.Write
 * and NX unless Prot.Exec. Prot.None leaves a not-present entry that
 * remembers its target.
 *
 * `needsFlush` is set when an entry that the hardware may have cached lost
 * rights or changed its target; the platform must flush the guest TLB (under
 * PVM, the shadow page tables) before this address space runs again.
 */
export class PageTable {
  /** Page index of the PML4 in guest memory. */
  readonly root: number;
  /** Set when a cached translation may now be wrong. */
  needsFlush = false;
  private readonly tables = new Set<number>();

  constructor(
    private readonly memory: GuestMemory,
    sharedTopEntry: { index: number; table: number },
  ) {
    this.root = memory.allocate();
    this.tables.add(this.root);
    this.writeEntry(this.root, sharedTopEntry.index, memory.gpaOf(sharedTopEntry.table), Pte.Present | Pte.Writable | Pte.User, false);
  }

  /** Guest-physical address of the root, the value for CR3. */
  get cr3(): number {
    return this.memory.gpaOf(this.root);
  }

  /** Maps [va, va+length) to guest-physical [gpa, gpa+length) with `prot`. */
  map(va: number, length: number, gpa: number, prot: number): void {
    for (let done = 0; done < length; done += PAGE_SIZE) {
      const table = this.walk(va + done, true);
      const index = this.indexAt(va + done, 3);
      if (prot === Prot.None) {
        if (this.readEntry(table, index) !== undefined) this.needsFlush = true;
        this.writeEntry(table, index, gpa + done, PROT_NONE_MARK, false);
        continue;
      }
      const flags = Pte.Present | Pte.User | (prot & Prot.Write ? Pte.Writable : 0);
      const old = this.readEntry(table, index);
      const nx = (prot & Prot.Exec) === 0;
      if (old !== undefined && (old.gpa !== gpa + done || (old.flags & ~flags) !== 0 || (nx && !old.nx))) this.needsFlush = true;
      this.writeEntry(table, index, gpa + done, flags, nx);
    }
  }

  /** Removes the leaves of [va, va+length). */
  unmap(va: number, length: number): void {
    for (let done = 0; done < length; done += PAGE_SIZE) this.clear(va + done);
  }

  /** Changes the rights of the present leaves of [va, va+length). */
  protect(va: number, length: number, prot: number): void {
    for (let done = 0; done < length; done += PAGE_SIZE) {
      const table = this.walk(va + done, false);
      if (table < 0) continue;
      const entry = this.readEntry(table, this.indexAt(va + done, 3), true);
      if (entry !== undefined) this.map(va + done, PAGE_SIZE, entry.gpa, prot);
    }
  }

  /** Reports whether `va` is mapped with Prot.None. */
  isProtNone(va: number): boolean {
    const table = this.walk(va, false);
    if (table < 0) return false;
    const entry = this.readEntry(table, this.indexAt(va, 3), true);
    return entry !== undefined && (entry.flags & PROT_NONE_MARK) !== 0;
  }

  /** Walks the tables for `va`; undefined if no leaf maps it. */
  translate(va: number): Translation | undefined {
    const table = this.walk(va, false);
    if (table < 0) return undefined;
    const entry = this.readEntry(table, this.indexAt(va, 3));
    if (entry === undefined) return undefined;
    const prot = Prot.Read | (entry.flags & Pte.Writable ? Prot.Write : 0) | (entry.nx ? 0 : Prot.Exec);
    return { gpa: entry.gpa + (va % PAGE_SIZE), prot };
  }

  /** Gives every table page back to guest memory. */
  release(): void {
    for (const page of this.tables) this.memory.release(page);
    this.tables.clear();
  }

  private clear(va: number): void {
    const table = this.walk(va, false);
    if (table < 0) return;
    const index = this.indexAt(va, 3);
    if (this.readEntry(table, index, true) === undefined) return;
    if (this.readEntry(table, index) !== undefined) this.needsFlush = true;
    this.memory.view.setUint32(table * PAGE_SIZE + index * 8, 0, true);
    this.memory.view.setUint32(table * PAGE_SIZE + index * 8 + 4, 0, true);
  }

  /** Returns the page index of the last-level table for `va`, creating tables if `create`; -1 if absent. */
  private walk(va: number, create: boolean): number {
    let table = this.root;
    for (let level = 0; level < 3; level++) {
      const index = this.indexAt(va, level);
      const entry = this.readEntry(table, index);
      if (entry !== undefined) {
        table = this.memory.pageAt(entry.gpa);
        continue;
      }
      if (!create) return -1;
      const next = this.memory.allocate();
      this.tables.add(next);
      this.writeEntry(table, index, this.memory.gpaOf(next), Pte.Present | Pte.Writable | Pte.User, false);
      table = next;
    }
    return table;
  }

  private indexAt(va: number, level: number): number {
    return Math.floor(va / 2 ** LEVEL_SHIFTS[level]) % ENTRIES;
  }

  /** Reads a present entry, or with `orProtNone` also a Prot.None one. */
  private readEntry(table: number, index: number, orProtNone = false): { gpa: number; flags: number; nx: boolean } | undefined {
    const at = table * PAGE_SIZE + index * 8;
    const low = this.memory.view.getUint32(at, true);
    if ((low & Pte.Present) === 0 && !(orProtNone && (low & PROT_NONE_MARK) !== 0)) return undefined;
    const high = this.memory.view.getUint32(at + 4, true);
    return { gpa: (high & ADDRESS_HIGH_MASK) * TWO_32 + ((low & 0xffff_f000) >>> 0), flags: low & 0xfff, nx: (high & NX_HIGH) !== 0 };
  }

  private writeEntry(table: number, index: number, gpa: number, flags: number, nx: boolean): void {
    const at = table * PAGE_SIZE + index * 8;
    const high = (Math.floor(gpa / TWO_32) & ADDRESS_HIGH_MASK) | (nx ? NX_HIGH : 0);
    this.memory.view.setUint32(at + 4, high >>> 0, true);
    this.memory.view.setUint32(at, ((gpa % TWO_32) & 0xffff_f000) | flags, true);
  }
}

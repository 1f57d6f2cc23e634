import { randomFillSync } from "node:crypto";
import { Errno, SyscallError } from "@sandbox/abi";
import { S_IFCHR, makeDev } from "../constants";
import type { FileDescriptionImpl } from "../FileSystem";
import type { Stat } from "../Stat";
import type { DeviceRegistry } from "./DeviceRegistry";

/** Major number of the memory devices (null, zero, full, random, urandom). */
export const MEM_MAJOR = 1;

/** Device numbers of the memory devices, as Linux assigns them. */
export const MemoryDevice = {
  null: makeDev(MEM_MAJOR, 3),
  zero: makeDev(MEM_MAJOR, 5),
  full: makeDev(MEM_MAJOR, 7),
  random: makeDev(MEM_MAJOR, 8),
  urandom: makeDev(MEM_MAJOR, 9),
} as const;

/** The behavior that distinguishes one memory device from another. */
interface MemoryDeviceBehavior {
  read(dst: Uint8Array): number;
  write(src: Uint8Array): number;
  /** Whether writes succeed without reading the bytes (see FileDescriptionImpl.discardsWrites). */
  readonly discards?: boolean;
}

const behaviors: Record<keyof typeof MemoryDevice, MemoryDeviceBehavior> = {
  null: { read: () => 0, write: (src) => src.length, discards: true },
  zero: { read: fillZero, write: (src) => src.length, discards: true },
  full: {
    read: fillZero,
    write: () => {
      throw new SyscallError(Errno.ENOSPC);
    },
  },
  random: { read: fillRandom, write: (src) => src.length },
  urandom: { read: fillRandom, write: (src) => src.length },
};

function fillZero(dst: Uint8Array): number {
  dst.fill(0);
  return dst.length;
}

function fillRandom(dst: Uint8Array): number {
  randomFillSync(dst);
  return dst.length;
}

/**
 * An open memory device. Offsets mean nothing to these devices: pread and
 * pwrite work, and lseek always returns 0, as on Linux 6.x, where reads and
 * writes leave the offset at 0. Bytes written to random and urandom are
 * discarded.
 */
class MemoryDeviceFile implements FileDescriptionImpl {
  readonly seekable = true;
  readonly discardsWrites: boolean;

  constructor(
    private readonly behavior: MemoryDeviceBehavior,
    private readonly statNode: () => Stat,
  ) {
    this.discardsWrites = behavior.discards === true;
  }

  read(dst: Uint8Array, _offset: number): number {
    return this.behavior.read(dst);
  }

  write(src: Uint8Array, _offset: number): number {
    return this.behavior.write(src);
  }

  stat(): Stat {
    return this.statNode();
  }

  seek(_current: number, _offset: number, _whence: number): number {
    return 0;
  }

  release(): void {}
}

/** Registers null, zero, full, random and urandom as character devices, skipping those already registered. */
export function registerMemoryDevices(registry: DeviceRegistry): void {
  for (const name of Object.keys(MemoryDevice) as (keyof typeof MemoryDevice)[]) {
    if (registry.has(S_IFCHR, MemoryDevice[name])) {
      continue;
    }
    const behavior = behaviors[name];
    registry.registerCharacterDevice(MemoryDevice[name], (_flags, stat) => new MemoryDeviceFile(behavior, stat));
  }
}

import * as hostFs from "node:fs";
import { Errno, SyscallError } from "@sandbox/abi";
import { describe, expect, it } from "vitest";
import { O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, S_IFCHR, SEEK_CUR, SEEK_SET, makeDev } from "../constants";
import { TmpFileSystem } from "../tmpfs/TmpFileSystem";
import { VirtualFileSystem } from "../VirtualFileSystem";
import { newDevFileSystem } from "./devfs";
import { DeviceRegistry } from "./DeviceRegistry";
import { MemoryDevice } from "./memoryDevices";

function errnoOf(call: () => unknown): number | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    if (error instanceof SyscallError) {
      return error.errno;
    }
    throw error;
  }
}

function newSandbox() {
  const vfs = new VirtualFileSystem();
  const devices = new DeviceRegistry();
  vfs.mountRoot(new TmpFileSystem({ dev: vfs.allocateDevice(), devices }));
  const ctx = vfs.newContext();
  vfs.mkdirAt(ctx, undefined, "/dev", 0o755);
  vfs.mount(ctx, "/dev", newDevFileSystem(vfs.allocateDevice(), devices));
  return { vfs, ctx, devices };
}

describe("devfs", () => {
  it("numbers the nodes as Linux does", () => {
    const { vfs, ctx } = newSandbox();
    for (const name of ["null", "zero", "full", "random", "urandom"]) {
      const stat = vfs.statAt(ctx, undefined, `/dev/${name}`);
      const host = hostFs.statSync(`/dev/${name}`);
      expect({ name, rdev: stat.rdev }).toEqual({ name, rdev: host.rdev });
      expect({ name, mode: stat.mode }).toEqual({ name, mode: S_IFCHR | 0o666 });
    }
    expect(MemoryDevice.null).toBe(makeDev(1, 3));
  });

  it("serves null, zero and full", () => {
    const { vfs, ctx } = newSandbox();
    const buffer = new Uint8Array(8).fill(7);

    const nullFile = vfs.openAt(ctx, undefined, "/dev/null", O_RDWR);
    expect(nullFile.read(buffer)).toBe(0);
    expect(nullFile.write(buffer)).toBe(8);
    expect(nullFile.seek(100, SEEK_SET)).toBe(0);
    nullFile.decRef();

    const zero = vfs.openAt(ctx, undefined, "/dev/zero", O_RDONLY);
    expect(zero.read(buffer)).toBe(8);
    expect([...buffer]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(zero.stat().rdev).toBe(MemoryDevice.zero);
    zero.decRef();

    const full = vfs.openAt(ctx, undefined, "/dev/full", O_RDWR);
    expect(errnoOf(() => full.write(buffer))).toBe(Errno.ENOSPC);
    buffer.fill(1);
    expect(full.read(buffer)).toBe(8);
    expect(buffer.every((byte) => byte === 0)).toBe(true);
    full.decRef();
  });

  it("serves random bytes", () => {
    const { vfs, ctx } = newSandbox();
    const urandom = vfs.openAt(ctx, undefined, "/dev/urandom", O_RDONLY);
    const first = new Uint8Array(32);
    const second = new Uint8Array(32);
    expect(urandom.read(first)).toBe(32);
    expect(urandom.read(second)).toBe(32);
    expect(Buffer.compare(first, second)).not.toBe(0);
    expect(urandom.seek(5, SEEK_CUR)).toBe(0);
    urandom.decRef();

    const random = vfs.openAt(ctx, undefined, "/dev/random", O_WRONLY);
    expect(random.write(first)).toBe(32);
    random.decRef();
  });

  it("opens device nodes made with mknod and rejects unknown ones", () => {
    const { vfs, ctx, devices } = newSandbox();
    const isolated = new TmpFileSystem({ dev: vfs.allocateDevice() });
    isolated.root().mknod("null", S_IFCHR | 0o666, MemoryDevice.null, { uid: 0, gid: 0 });
    expect(errnoOf(() => isolated.root().lookup("null")?.open(O_RDONLY))).toBe(Errno.ENXIO);

    vfs.mknodAt(ctx, undefined, "/my-null", S_IFCHR | 0o600, MemoryDevice.null);
    vfs.mknodAt(ctx, undefined, "/unknown", S_IFCHR | 0o600, makeDev(42, 0));
    expect(devices.has(S_IFCHR, MemoryDevice.null)).toBe(true);

    const file = vfs.openAt(ctx, undefined, "/my-null", O_WRONLY);
    expect(file.write(new Uint8Array(3))).toBe(3);
    file.decRef();
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/unknown", O_RDONLY))).toBe(Errno.ENXIO);
    expect(() => devices.registerCharacterDevice(MemoryDevice.null, () => {
      throw new Error("unused");
    })).toThrow(/already registered/);
  });

  it("keeps device nodes writable on a read-only mount", () => {
    const vfs = new VirtualFileSystem();
    vfs.mountRoot(newDevFileSystem(vfs.allocateDevice()), { readOnly: true });
    const ctx = vfs.newContext();
    const file = vfs.openAt(ctx, undefined, "/null", O_WRONLY);
    expect(file.write(new Uint8Array(1))).toBe(1);
    file.decRef();
    expect(errnoOf(() => vfs.openAt(ctx, undefined, "/new", O_CREAT | O_WRONLY))).toBe(Errno.EROFS);
  });
});

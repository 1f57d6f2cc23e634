import { describe, expect, it } from "vitest";
import { forEachDirent, type HostDirent } from "./dirents";

/** Encodes records as getdents64 lays them out, each padded to 8 bytes. */
function encode(entries: { ino: bigint; next: bigint; type: number; name: string }[]): Uint8Array {
  const records = entries.map(({ ino, next, type, name }) => {
    const length = (19 + name.length + 1 + 7) & ~7;
    const record = new Uint8Array(length);
    const view = new DataView(record.buffer);
    view.setBigUint64(0, ino, true);
    view.setBigInt64(8, next, true);
    view.setUint16(16, length, true);
    view.setUint8(18, type);
    record.set(Buffer.from(name, "latin1"), 19);
    return record;
  });
  return Buffer.concat(records);
}

describe("forEachDirent", () => {
  it("visits records in order", () => {
    const buffer = encode([
      { ino: 5n, next: 100n, type: 4, name: "." },
      { ino: 2n ** 60n, next: -1n, type: 8, name: "a-longer-name\u00ff" },
    ]);
    const seen: HostDirent[] = [];
    forEachDirent(buffer, buffer.length, (entry) => seen.push({ ...entry, name: entry.name.slice() }));
    expect(seen.map((entry) => Buffer.from(entry.name).toString("latin1"))).toEqual([".", "a-longer-name\u00ff"]);
    expect(seen.map((entry) => [entry.ino, entry.next, entry.type])).toEqual([
      [5n, 100n, 4],
      [2n ** 60n, -1n, 8],
    ]);
  });

  it("rejects a malformed record", () => {
    const buffer = encode([{ ino: 1n, next: 1n, type: 8, name: "x" }]);
    new DataView(buffer.buffer, buffer.byteOffset).setUint16(16, 200, true);
    expect(() => forEachDirent(buffer, buffer.length, () => {})).toThrow("malformed linux_dirent64 at byte 0");
    new DataView(buffer.buffer, buffer.byteOffset).setUint16(16, 0, true);
    expect(() => forEachDirent(buffer, buffer.length, () => {})).toThrow(RangeError);
  });
});

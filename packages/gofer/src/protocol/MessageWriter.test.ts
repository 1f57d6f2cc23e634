import { describe, expect, it } from "vitest";
import { Header, MessageType } from "./messages";
import { MessageReader } from "./MessageReader";
import { MessageWriter } from "./MessageWriter";

describe("MessageWriter", () => {
  it("writes fields that MessageReader reads back", () => {
    const bytes = new Uint8Array(64);
    const writer = new MessageWriter(bytes)
      .start(MessageType.WALK, 2, 0xfffffffe)
      .u8(7)
      .u16(0xbeef)
      .u32(0xdeadbeef)
      .u64(2n ** 60n)
      .i64(-5)
      .byteString("f\u00ff");
    expect(writer.length).toBe(Header.SIZE + 1 + 2 + 4 + 8 + 8 + 2);

    const reader = new MessageReader(bytes, writer.length);
    expect(reader.type).toBe(MessageType.WALK);
    expect(reader.errno).toBe(2);
    expect(reader.tag).toBe(0xfffffffe);
    expect(reader.u8()).toBe(7);
    expect(reader.u16()).toBe(0xbeef);
    expect(reader.u32()).toBe(0xdeadbeef);
    expect(reader.u64()).toBe(2n ** 60n);
    expect(reader.i64()).toBe(-5n);
    expect(reader.byteString(2)).toBe("f\u00ff");
    expect(reader.remaining).toBe(0);
  });

  it("rejects writing past the buffer", () => {
    const writer = new MessageWriter(new Uint8Array(Header.SIZE + 2)).start(MessageType.STAT, 0, 1);
    expect(() => writer.u32(1)).toThrow(RangeError);
    expect(() => writer.byteString("\u0100")).toThrow("character U+0100 in a byte string");
  });
});

import { describe, expect, it } from "vitest";
import { Header } from "./messages";
import { MessageReader, MessageTooShortError } from "./MessageReader";

describe("MessageReader", () => {
  it("rejects reading past the message", () => {
    const bytes = new Uint8Array(32);
    expect(() => new MessageReader(bytes, Header.SIZE - 1)).toThrow(MessageTooShortError);
    const reader = new MessageReader(bytes, Header.SIZE + 3);
    expect(() => reader.u32()).toThrow(MessageTooShortError);
    expect(reader.u16()).toBe(0);
    expect(() => reader.raw(2)).toThrow("message of 11 bytes is too short: a field ends at byte 12");
  });
});

import { describe, expect, it } from "vitest";
import { Credentials } from "./Credentials";

describe("Credentials", () => {
  it("checks group membership", () => {
    const creds = new Credentials(5, 6, [7]);
    expect(creds.inGroup(6)).toBe(true);
    expect(creds.inGroup(7)).toBe(true);
    expect(creds.inGroup(8)).toBe(false);
    expect(creds.isRoot).toBe(false);
    expect(Credentials.root().isRoot).toBe(true);
  });

  it("rejects invalid IDs", () => {
    expect(() => new Credentials(-1, 0)).toThrow(RangeError);
    expect(() => new Credentials(0, 2 ** 32)).toThrow(RangeError);
    expect(() => new Credentials(0, 0, [1.5])).toThrow(RangeError);
  });

  it("copies the group list", () => {
    const groups = [1, 2];
    const creds = new Credentials(5, 6, groups);
    groups.push(3);
    expect(creds.inGroup(3)).toBe(false);
  });
});

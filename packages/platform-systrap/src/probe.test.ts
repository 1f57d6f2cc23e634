import { describe, expect, it } from "vitest";
import { probeSystrap } from "./probe";

describe("probeSystrap", () => {
  it("passes on this machine and reports sealing", async () => {
    const result = await probeSystrap();
    expect(result.sealed).toBe(true);
  });
});

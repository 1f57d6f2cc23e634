import { describe, expect, it } from "vitest";
import { MemoryFile } from "../../mm/src/memory-file";
import { probeSystrap } from "./probe";
import { SystrapPlatform } from "./SystrapPlatform";

describe("probeSystrap", () => {
  it("passes here and reports sealing", () => {
    expect(probeSystrap()).toEqual({ sealed: true });
  });

  it("runs from the platform", () => {
    const memoryFile = MemoryFile.create("systrap-probe-test");
    const platform = new SystrapPlatform({ memoryFile });
    try {
      expect(platform.probe()).toEqual({ sealed: true });
    } finally {
      platform.close();
      memoryFile.close();
    }
  });
});

import { definePlatformConformance } from "@sandbox/platform/conformance";
import { MemoryFile } from "../../mm/src/memory-file";
import { SystrapPlatform } from "../src/SystrapPlatform";

definePlatformConformance("systrap", () => {
  const memoryFile = MemoryFile.create("systrap-conformance");
  const platform = new SystrapPlatform({ memoryFile });
  return {
    platform,
    writeMemory(offset, data) {
      memoryFile.grow(offset + data.length);
      memoryFile.write(offset, data);
    },
    dispose() {
      platform.close();
      memoryFile.close();
    },
  };
});

import { definePlatformConformance } from "@sandbox/platform/conformance";
import { MemoryFile } from "../../mm/src/memory-file";
import { PtracePlatform } from "../src/ptrace-platform";

definePlatformConformance("ptrace", () => {
  const memoryFile = MemoryFile.create("ptrace-conformance");
  const platform = new PtracePlatform({ memoryFile });
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

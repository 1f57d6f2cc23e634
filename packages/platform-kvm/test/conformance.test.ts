import { definePlatformConformance } from "@sandbox/platform/conformance";
import { MemoryFile } from "../../mm/src/memory-file";
import { KvmPlatform } from "../src/kvm-platform";

definePlatformConformance("kvm", () => {
  const memoryFile = MemoryFile.create("kvm-conformance");
  let platform: KvmPlatform;
  try {
    platform = new KvmPlatform({ memoryFile });
  } catch (error) {
    memoryFile.close();
    throw error;
  }
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

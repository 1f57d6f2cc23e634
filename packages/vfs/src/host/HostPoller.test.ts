import { closeSync, writeSync } from "node:fs";
import { PollEvents } from "@sandbox/abi";
import { afterEach, describe, expect, it } from "vitest";
import { pipe2 } from "./hostFd.native";
import { HostPoller } from "./HostPoller";

describe("HostPoller", () => {
  const fds: number[] = [];

  afterEach(() => {
    for (const fd of fds.splice(0)) {
      closeSync(fd);
    }
  });

  function hostPipe(): [number, number] {
    const ends = pipe2(0);
    if (typeof ends === "number") {
      throw new Error(`pipe2 failed with errno ${-ends}`);
    }
    fds.push(...ends);
    return ends;
  }

  it("wakes only the descriptor that became ready", async () => {
    const poller = new HostPoller();
    const [quietRead] = hostPipe();
    const [busyRead, busyWrite] = hostPipe();
    const woken: string[] = [];
    const unwatchQuiet = poller.watch(quietRead, PollEvents.POLLIN, () => woken.push("quiet"));
    const busy = new Promise<void>((resolve) =>
      poller.watch(busyRead, PollEvents.POLLIN, () => {
        woken.push("busy");
        resolve();
      }),
    );

    writeSync(busyWrite, "x");
    await busy;
    expect(woken).toEqual(["busy"]);
    expect(poller.size).toBe(1);
    unwatchQuiet();
    expect(poller.size).toBe(0);
  });

  it("wakes two waiters of one descriptor", async () => {
    const poller = new HostPoller();
    const [readFd, writeFd] = hostPipe();
    const first = new Promise<void>((resolve) => poller.watch(readFd, PollEvents.POLLIN, resolve));
    const second = new Promise<void>((resolve) => poller.watch(readFd, PollEvents.POLLIN, resolve));
    closeSync(writeFd);
    fds.splice(fds.indexOf(writeFd), 1);
    await Promise.all([first, second]);
    expect(poller.size).toBe(0);
  });
});

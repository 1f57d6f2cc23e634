import { PollEvents } from "@sandbox/abi";
import { describe, expect, it } from "vitest";
import { WaiterQueue } from "./WaiterQueue";

describe("WaiterQueue", () => {
  it("wakes waiters whose mask matches once", () => {
    const queue = new WaiterQueue();
    const woken: string[] = [];
    queue.add(PollEvents.POLLIN, () => woken.push("in"));
    queue.add(PollEvents.POLLOUT, () => woken.push("out"));

    queue.notify(PollEvents.POLLIN);
    expect(woken).toEqual(["in"]);
    expect(queue.size).toBe(1);

    queue.notify(PollEvents.POLLIN);
    expect(woken).toEqual(["in"]);
  });

  it("always wakes on POLLHUP and POLLERR", () => {
    const queue = new WaiterQueue();
    let count = 0;
    queue.add(PollEvents.POLLIN, () => count++);
    queue.add(PollEvents.POLLOUT, () => count++);
    queue.notify(PollEvents.POLLHUP);
    expect(count).toBe(2);
    expect(queue.size).toBe(0);
  });

  it("removes a waiter before it runs", () => {
    const queue = new WaiterQueue();
    let count = 0;
    const remove = queue.add(PollEvents.POLLIN, () => count++);
    remove();
    remove();
    queue.notify(PollEvents.POLLIN);
    expect(count).toBe(0);
  });

  it("lets a waiter add another waiter", () => {
    const queue = new WaiterQueue();
    const woken: number[] = [];
    queue.add(PollEvents.POLLIN, () => {
      woken.push(1);
      queue.add(PollEvents.POLLIN, () => woken.push(2));
    });
    queue.notify(PollEvents.POLLIN);
    expect(woken).toEqual([1]);
    queue.notify(PollEvents.POLLIN);
    expect(woken).toEqual([1, 2]);
  });
});

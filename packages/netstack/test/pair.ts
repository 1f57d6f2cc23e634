import { createHash } from "node:crypto";
import { createMemoryLinkPair, type MemoryLinkOptions, Stack, type StackOptions, type TcpStream } from "../src/index";

/** Two stacks joined by an in-memory link: a is 10.0.0.1 and fd00::1, b is 10.0.0.2 and fd00::2. */
export interface StackPair {
  a: Stack;
  b: Stack;
  close(): void;
}

/** Creates two stacks on one in-memory link. */
export function stackPair(link: MemoryLinkOptions = {}, options: StackOptions = {}, back?: MemoryLinkOptions): StackPair {
  const [la, lb] = createMemoryLinkPair(link, back ?? link);
  const a = new Stack(options);
  const b = new Stack(options);
  a.addNic(la, { name: "eth0", addresses: ["10.0.0.1/24", "fd00::1/64"] });
  b.addNic(lb, { name: "eth0", addresses: ["10.0.0.2/24", "fd00::2/64"] });
  return {
    a,
    b,
    close() {
      a.close();
      b.close();
    },
  };
}

/** Reads a stream to its end and returns the bytes and their SHA-256. */
export async function readAll(s: TcpStream): Promise<{ length: number; sha256: string }> {
  const h = createHash("sha256");
  let length = 0;
  for await (const chunk of s) {
    h.update(chunk as Buffer);
    length += (chunk as Buffer).length;
  }
  return { length, sha256: h.digest("hex") };
}

/** Deterministic pseudo-random bytes for transfers. */
export function patternBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, size >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

/** Waits until `cond` holds, checking every `stepMs`; rejects after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 10_000, stepMs = 5): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

import { expect, test } from "vitest";
import { probeExpressions } from "../../test/cProbe";
import { decodeIovecs, encodeIovecs, IOVEC_SIZE, IovecOffset, UIO_MAXIOV } from "./iovec";

test("iovec layout matches sys/uio.h", () => {
  const values = probeExpressions(["sys/uio.h", "limits.h"], {
    size: "sizeof(struct iovec)",
    iov_base: "offsetof(struct iovec, iov_base)",
    iov_len: "offsetof(struct iovec, iov_len)",
    max: "IOV_MAX",
  });
  expect(values.get("size")).toBe(BigInt(IOVEC_SIZE));
  expect(values.get("iov_base")).toBe(BigInt(IovecOffset.iov_base));
  expect(values.get("iov_len")).toBe(BigInt(IovecOffset.iov_len));
  expect(values.get("max")).toBe(BigInt(UIO_MAXIOV));
});

test("iovecs round-trip", () => {
  const entries = [{ base: 0x7fff_0000_1000, length: 5 }, { base: 0, length: 0 }, { base: 0x1000, length: 4096 }];
  const bytes = new Uint8Array(8 + entries.length * IOVEC_SIZE);
  expect(encodeIovecs(bytes, 8, entries)).toBe(48);
  expect(decodeIovecs(bytes.subarray(8), 3)).toEqual(entries);
  expect(decodeIovecs(bytes, 0)).toEqual([]);
});

test("decodeIovecs rejects bad input", () => {
  expect(() => decodeIovecs(new Uint8Array(16), 2)).toThrow(RangeError);
  expect(() => decodeIovecs(new Uint8Array(16), -1)).toThrow(RangeError);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(8, 1n << 60n, true);
  expect(() => decodeIovecs(huge, 1)).toThrow(RangeError);
});

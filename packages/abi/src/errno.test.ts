import { expect, test } from "vitest";
import { compareWithHeaders, runC } from "../test/cProbe";
import { Errno, errnoMessage, errnoName, MAX_ERRNO, SyscallError } from "./errno";

const KERNEL_INTERNAL = [
  "ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND", "ENOIOCTLCMD", "ERESTART_RESTARTBLOCK", "EPROBE_DEFER",
  "EOPENSTALE", "ENOPARAM", "EBADHANDLE", "ENOTSYNC", "EBADCOOKIE", "ENOTSUPP", "ETOOSMALL", "ESERVERFAULT",
  "EBADTYPE", "EJUKEBOX", "EIOCBQUEUED", "ERECALLCONFLICT", "ENOGRACE",
];

test("errno values match headers", () => {
  const { mismatches, missing } = compareWithHeaders(["errno.h"], Errno);
  expect(mismatches).toEqual([]);
  expect(missing.sort()).toEqual([...KERNEL_INTERNAL].sort());
});

test("errno names and messages match glibc", () => {
  const output = runC(`
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
int main(void) {
  for (int n = 1; n <= 140; n++) {
    const char *name = strerrorname_np(n);
    printf("%d|%s|%s\\n", n, name ? name : "", strerror(n));
  }
  return 0;
}
`);
  for (const line of output.trim().split("\n")) {
    const [number, name, message] = line.split("|");
    const errno = Number(number);
    expect(errnoName(errno) ?? "", `name of ${errno}`).toBe(name);
    expect(errnoMessage(errno), `message of ${errno}`).toBe(message);
  }
});

test("errno aliases map to canonical names", () => {
  expect(Errno.EWOULDBLOCK).toBe(Errno.EAGAIN);
  expect(errnoName(Errno.EWOULDBLOCK)).toBe("EAGAIN");
  expect(errnoName(Errno.ENOTSUP)).toBe("EOPNOTSUPP");
  expect(errnoName(Errno.EDEADLOCK)).toBe("EDEADLK");
});

test("restart errnos have strace messages", () => {
  expect(errnoName(512)).toBe("ERESTARTSYS");
  expect(errnoMessage(512)).toBe("To be restarted if SA_RESTART is set");
  expect(errnoMessage(516)).toBe("Interrupted by signal");
  expect(errnoName(4000)).toBeUndefined();
  expect(errnoMessage(4000)).toBe("Unknown error 4000");
});

test("SyscallError carries errno and message", () => {
  const error = new SyscallError(Errno.ENOENT);
  expect(error).toBeInstanceOf(Error);
  expect(error.errno).toBe(2);
  expect(error.message).toBe("ENOENT: No such file or directory");
  expect(error.name).toBe("SyscallError");
  expect(new SyscallError(Errno.EBADF, "fd 7").message).toBe("EBADF: Bad file descriptor (fd 7)");
});

test("SyscallError rejects invalid errno", () => {
  expect(() => new SyscallError(0)).toThrow(RangeError);
  expect(() => new SyscallError(-2)).toThrow(RangeError);
  expect(() => new SyscallError(MAX_ERRNO + 1)).toThrow(RangeError);
  expect(() => new SyscallError(1.5)).toThrow(RangeError);
});

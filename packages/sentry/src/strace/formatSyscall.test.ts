import { CloneFlags, Errno, FutexOp, MapFlags, OpenFlags, Prot, SYS } from "@sandbox/abi";
import { describe, expect, test } from "vitest";
import { formatSyscall } from "./formatSyscall";
import type { StraceMemory } from "./memory";

/** A program's memory made of byte regions at fixed addresses; everything else is unmapped. */
class FakeMemory implements StraceMemory {
  private readonly regions: { base: number; bytes: Uint8Array }[] = [];

  /** Places `bytes` at `base` and returns `base` as a bigint argument. */
  map(base: number, bytes: Uint8Array | string): bigint {
    this.regions.push({ base, bytes: typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes });
    return BigInt(base);
  }

  /** Places a NUL-terminated string at `base`. */
  string(base: number, text: string): bigint {
    return this.map(base, new TextEncoder().encode(`${text}\0`));
  }

  read(addr: number, length: number): Uint8Array | undefined {
    for (const { base, bytes } of this.regions) {
      if (addr >= base && addr < base + bytes.byteLength) {
        return bytes.subarray(addr - base, Math.min(bytes.byteLength, addr - base + length));
      }
    }
    return undefined;
  }
}

const error = (errno: number) => BigInt(-errno);

function u64s(...values: bigint[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setBigUint64(i * 8, value, true));
  return bytes;
}

describe("formatSyscall", () => {
  test("openat with AT_FDCWD and flags", () => {
    const memory = new FakeMemory();
    const path = memory.string(0x1000, "/etc/passwd");
    const flags = BigInt(OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
    expect(formatSyscall(SYS.openat, [-100n & 0xffff_ffff_ffff_ffffn, path, flags, 0n], 3n, memory))
      .toBe('openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3');
  });

  test("openat shows mode only with O_CREAT", () => {
    const memory = new FakeMemory();
    const path = memory.string(0x1000, "/tmp/x");
    const flags = BigInt(OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_TRUNC);
    expect(formatSyscall(SYS.openat, [BigInt.asUintN(64, -100n), path, flags, 0o644n], 4n, memory))
      .toBe('openat(AT_FDCWD, "/tmp/x", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4');
  });

  test("failed call shows errno name and message", () => {
    const memory = new FakeMemory();
    const path = memory.string(0x1000, "/nope");
    expect(formatSyscall(SYS.openat, [BigInt.asUintN(64, -100n), path, 0n, 0n], error(Errno.ENOENT), memory))
      .toBe('openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)');
  });

  test("read shows 32 bytes of the data read", () => {
    const memory = new FakeMemory();
    const data = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n";
    const buffer = memory.map(0x2000, data);
    expect(formatSyscall(SYS.read, [3n, buffer, 4096n], BigInt(data.length), memory))
      .toBe(`read(3, "root:x:0:0:root:/root:/bin/bash\\n"..., 4096) = ${data.length}`);
  });

  test("read of binary data escapes in octal like strace", () => {
    const memory = new FakeMemory();
    const elf = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0,
      0x10, 0x74, 2, 0, 0, 0, 0, 0, 0x40, 0, 0]);
    const buffer = memory.map(0x2000, elf);
    expect(formatSyscall(SYS.read, [3n, buffer, 832n], 832n, memory))
      .toBe('read(3, "\\177ELF\\2\\1\\1\\3\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\20t\\2\\0\\0\\0\\0\\0"..., 832) = 832');
  });

  test("failed read prints the buffer address", () => {
    const memory = new FakeMemory();
    expect(formatSyscall(SYS.read, [9n, 0x7ffd_0000n, 10n], error(Errno.EBADF), memory))
      .toBe("read(9, 0x7ffd0000, 10) = -1 EBADF (Bad file descriptor)");
  });

  test("write escapes like strace", () => {
    const memory = new FakeMemory();
    const bytes = Uint8Array.from([0x61, 0x0a, 0x62, 0x09, 0x63, 0x22, 0x64, 0x5c, 0x65, 0x01, 0x7f, 0xff, 0x00]);
    const buffer = memory.map(0x3000, bytes);
    expect(formatSyscall(SYS.write, [99n, buffer, 13n], error(Errno.EBADF), memory))
      .toBe('write(99, "a\\nb\\tc\\"d\\\\e\\1\\177\\377\\0", 13) = -1 EBADF (Bad file descriptor)');
  });

  test("octal escape before a digit uses three digits", () => {
    const memory = new FakeMemory();
    const buffer = memory.map(0x3000, Uint8Array.from([0x01, 0x31, 0x00, 0x07]));
    expect(formatSyscall(SYS.write, [1n, buffer, 4n], 4n, memory)).toBe('write(1, "\\0011\\0\\7", 4) = 4');
  });

  test("write of exactly 32 bytes is not cut", () => {
    const memory = new FakeMemory();
    const text = "0123456789012345678901234567890123456789";
    const buffer = memory.map(0x3000, text);
    expect(formatSyscall(SYS.write, [1n, buffer, 32n], 32n, memory)).toBe(`write(1, "${text.slice(0, 32)}", 32) = 32`);
    expect(formatSyscall(SYS.write, [1n, buffer, 40n], 40n, memory)).toBe(`write(1, "${text.slice(0, 32)}"..., 40) = 40`);
  });

  test("mmap prints flags and a hex result", () => {
    const memory = new FakeMemory();
    const args = [0n, 8192n, BigInt(Prot.PROT_READ | Prot.PROT_WRITE), BigInt(MapFlags.MAP_PRIVATE | MapFlags.MAP_ANONYMOUS),
      0xffff_ffff_ffff_ffffn, 0n];
    expect(formatSyscall(SYS.mmap, args, 0x7f2a_4c00_0000n, memory))
      .toBe("mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f2a4c000000");
  });

  test("mmap of a file prints the offset in hex", () => {
    const memory = new FakeMemory();
    const args = [0x7fc7_f91c_5000n, 1400832n, BigInt(Prot.PROT_READ | Prot.PROT_EXEC),
      BigInt(MapFlags.MAP_PRIVATE | MapFlags.MAP_FIXED | MapFlags.MAP_DENYWRITE), 3n, 0x26000n];
    expect(formatSyscall(SYS.mmap, args, 0x7fc7_f91c_5000n, memory))
      .toBe("mmap(0x7fc7f91c5000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7fc7f91c5000");
  });

  test("mmap failure prints errno", () => {
    const memory = new FakeMemory();
    expect(formatSyscall(SYS.mmap, [0n, 4096n, 0n, 2n, 3n, 0n], error(Errno.ENOMEM), memory))
      .toBe("mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE, 3, 0) = -1 ENOMEM (Cannot allocate memory)");
  });

  test("exit_group has no result", () => {
    const memory = new FakeMemory();
    expect(formatSyscall(SYS.exit_group, [0n], undefined, memory)).toBe("exit_group(0) = ?");
    expect(formatSyscall(SYS.exit_group, [1n], 0n, memory)).toBe("exit_group(1) = ?");
  });

  test("unknown syscall prints hex arguments", () => {
    const memory = new FakeMemory();
    expect(formatSyscall(0x1f4, [1n, 0n, 0xffn], error(Errno.ENOSYS), memory))
      .toBe("syscall_0x1f4(0x1, 0, 0xff) = -1 ENOSYS (Function not implemented)");
    expect(formatSyscall(-1, [], error(Errno.ENOSYS), memory)).toBe("syscall_0xffffffff() = -1 ENOSYS (Function not implemented)");
  });

  test("brk prints hex addresses", () => {
    const memory = new FakeMemory();
    expect(formatSyscall(SYS.brk, [0n], 0x5591_2d6e_f000n, memory)).toBe("brk(NULL) = 0x55912d6ef000");
  });

  test("newfstatat decodes the stat buffer", () => {
    const memory = new FakeMemory();
    const stat = new Uint8Array(144);
    const view = new DataView(stat.buffer);
    view.setUint32(24, 0o100644, true);
    view.setBigInt64(48, 34547n, true);
    const statAddr = memory.map(0x4000, stat);
    const empty = memory.string(0x5000, "");
    expect(formatSyscall(SYS.newfstatat, [3n, empty, statAddr, 0x1000n], 0n, memory))
      .toBe('newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=34547, ...}, AT_EMPTY_PATH) = 0');
  });

  test("failed stat prints the struct address", () => {
    const memory = new FakeMemory();
    const path = memory.string(0x5000, "/root/.cargo/bin/cat");
    expect(formatSyscall(SYS.newfstatat, [BigInt.asUintN(64, -100n), path, 0x7ffd_8ec8_94b0n, 0n], error(Errno.ENOENT), memory))
      .toBe('newfstatat(AT_FDCWD, "/root/.cargo/bin/cat", 0x7ffd8ec894b0, 0) = -1 ENOENT (No such file or directory)');
  });

  test("character device stat shows st_rdev", () => {
    const memory = new FakeMemory();
    const stat = new Uint8Array(144);
    const view = new DataView(stat.buffer);
    view.setUint32(24, 0o20666, true);
    view.setBigUint64(40, 0x103n, true);
    const statAddr = memory.map(0x4000, stat);
    expect(formatSyscall(SYS.fstat, [0n, statAddr], 0n, memory))
      .toBe("fstat(0, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0");
  });

  test("execve prints argv and an envp count", () => {
    const memory = new FakeMemory();
    const path = memory.string(0x1000, "/usr/bin/sh");
    const arg0 = memory.string(0x1100, "sh");
    const arg1 = memory.string(0x1200, "-c");
    const arg2 = memory.string(0x1300, "cat /etc/hostname; uname -a; ls -d /");
    const argv = memory.map(0x2000, u64s(arg0, arg1, arg2, 0n));
    const env = memory.string(0x1400, "A=1");
    const envp = memory.map(0x3000, u64s(env, env, env, 0n));
    expect(formatSyscall(SYS.execve, [path, argv, envp], 0n, memory))
      .toBe('execve("/usr/bin/sh", ["sh", "-c", "cat /etc/hostname; uname -a; ls "...], 0x3000 /* 3 vars */) = 0');
  });

  test("rt_sigaction decodes both structures", () => {
    const memory = new FakeMemory();
    const mask = ~((1n << 31n) | (1n << 32n)) & 0xffff_ffff_ffff_ffffn;
    const action = memory.map(0x1000, u64s(0x5591_18da_3dc0n, 0x0400_0000n, 0x7fc7_f91d_b050n, mask));
    const old = memory.map(0x2000, u64s(0n, 0n, 0n, 0n));
    expect(formatSyscall(SYS.rt_sigaction, [17n, action, 0n, 8n], 0n, memory))
      .toBe("rt_sigaction(SIGCHLD, {sa_handler=0x559118da3dc0, sa_mask=~[RTMIN RT_1], sa_flags=SA_RESTORER, sa_restorer=0x7fc7f91db050}, NULL, 8) = 0");
    expect(formatSyscall(SYS.rt_sigaction, [2n, 0n, old, 8n], 0n, memory))
      .toBe("rt_sigaction(SIGINT, NULL, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0");
  });

  test("rt_sigprocmask prints signal sets", () => {
    const memory = new FakeMemory();
    const full = memory.map(0x1000, u64s(0xffff_ffff_ffff_ffffn));
    const some = memory.map(0x2000, u64s((1n << 1n) | (1n << 14n)));
    expect(formatSyscall(SYS.rt_sigprocmask, [0n, full, 0n, 8n], 0n, memory)).toBe("rt_sigprocmask(SIG_BLOCK, ~[], NULL, 8) = 0");
    expect(formatSyscall(SYS.rt_sigprocmask, [2n, some, 0n, 8n], 0n, memory)).toBe("rt_sigprocmask(SIG_SETMASK, [INT TERM], NULL, 8) = 0");
  });

  test("prlimit64 decodes rlimits", () => {
    const memory = new FakeMemory();
    const limit = memory.map(0x1000, u64s(8192n * 1024n, 0xffff_ffff_ffff_ffffn));
    expect(formatSyscall(SYS.prlimit64, [0n, 3n, 0n, limit], 0n, memory))
      .toBe("prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0");
  });

  test("fcntl prints the argument its command takes", () => {
    const memory = new FakeMemory();
    expect(formatSyscall(SYS.fcntl, [99n, 2n, 1n], error(Errno.EBADF), memory)).toBe("fcntl(99, F_SETFD, FD_CLOEXEC) = -1 EBADF (Bad file descriptor)");
    expect(formatSyscall(SYS.fcntl, [3n, 4n, 0o4002n], 0n, memory)).toBe("fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
    expect(formatSyscall(SYS.fcntl, [3n, 1n, 0n], 1n, memory)).toBe("fcntl(3, F_GETFD) = 1");
    expect(formatSyscall(SYS.fcntl, [3n, 1030n, 3n], 5n, memory)).toBe("fcntl(3, F_DUPFD_CLOEXEC, 3) = 5");
    expect(formatSyscall(SYS.fcntl, [99n, 1234n, 3n], error(Errno.EBADF), memory))
      .toBe("fcntl(99, 0x4d2 /* F_??? */, 0x3) = -1 EBADF (Bad file descriptor)");
  });

  test("clone names its arguments", () => {
    const memory = new FakeMemory();
    const flags = BigInt(CloneFlags.CLONE_CHILD_CLEARTID | CloneFlags.CLONE_CHILD_SETTID | 17);
    expect(formatSyscall(SYS.clone, [flags, 0n, 0n, 0x7f00_0000_0a10n, 0n], 6647n, memory))
      .toBe("clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0000000a10) = 6647");
    const threadFlags = BigInt(CloneFlags.CLONE_VM | CloneFlags.CLONE_SETTLS | CloneFlags.CLONE_PARENT_SETTID);
    expect(formatSyscall(SYS.clone, [threadFlags, 0x7f00n, 0x7f10n, 0x7f20n, 0x7f30n], 7n, memory))
      .toBe("clone(child_stack=0x7f00, flags=CLONE_VM|CLONE_SETTLS|CLONE_PARENT_SETTID, parent_tid=0x7f10, tls=0x7f30) = 7");
  });

  test("futex shows the arguments of its operation", () => {
    const memory = new FakeMemory();
    expect(formatSyscall(SYS.futex, [0x1000n, BigInt(FutexOp.FUTEX_WAKE | 128), 1n, 0n, 0n, 0n], 0n, memory))
      .toBe("futex(0x1000, FUTEX_WAKE_PRIVATE, 1) = 0");
    expect(formatSyscall(SYS.futex, [0x1000n, BigInt(FutexOp.FUTEX_WAIT | 128), 2n, 0n, 0n, 0n], error(Errno.EAGAIN), memory))
      .toBe("futex(0x1000, FUTEX_WAIT_PRIVATE, 2, NULL) = -1 EAGAIN (Resource temporarily unavailable)");
    expect(formatSyscall(SYS.futex, [0n, BigInt(FutexOp.FUTEX_WAIT_BITSET | 128), 1n, 0n, 0n, 0xffff_ffffn], error(Errno.EINVAL), memory))
      .toBe("futex(NULL, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, FUTEX_BITSET_MATCH_ANY) = -1 EINVAL (Invalid argument)");
    expect(formatSyscall(SYS.futex, [0n, BigInt(FutexOp.FUTEX_WAKE_BITSET | 128), 1n, 0n, 0n, 0xffff_ffffn], 0n, memory))
      .toBe("futex(NULL, FUTEX_WAKE_BITSET_PRIVATE, 1, FUTEX_BITSET_MATCH_ANY) = 0");
  });

  test("statx decodes its mask and buffer", () => {
    const memory = new FakeMemory();
    const path = memory.string(0x1000, "/");
    const statx = new Uint8Array(256);
    const view = new DataView(statx.buffer);
    view.setUint32(0, 0x1fff, true);
    view.setUint16(28, 0o40755, true);
    view.setBigUint64(40, 4096n, true);
    const buffer = memory.map(0x2000, statx);
    expect(formatSyscall(SYS.statx, [BigInt.asUintN(64, -100n), path, 0n, 0xfffn, buffer], 0n, memory))
      .toBe('statx(AT_FDCWD, "/", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_ALL|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFDIR|0755, stx_size=4096, ...}) = 0');
  });

  test("wait4 decodes the status", () => {
    const memory = new FakeMemory();
    const status = memory.map(0x1000, Uint8Array.from([0, 0, 0, 0]));
    expect(formatSyscall(SYS.wait4, [BigInt.asUintN(64, -1n), status, 0n, 0n], 6647n, memory))
      .toBe("wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 6647");
  });

  test("writev shows each iovec", () => {
    const memory = new FakeMemory();
    const hello = memory.map(0x1000, "hello ");
    const world = memory.map(0x2000, "world\n");
    const iov = memory.map(0x3000, u64s(hello, 6n, world, 6n));
    expect(formatSyscall(SYS.writev, [1n, iov, 2n], 12n, memory))
      .toBe('writev(1, [{iov_base="hello ", iov_len=6}, {iov_base="world\\n", iov_len=6}], 2) = 12');
  });

  test("readv shows only the bytes read", () => {
    const memory = new FakeMemory();
    const first = memory.map(0x1000, "abcd");
    const second = memory.map(0x2000, "efgh");
    const iov = memory.map(0x3000, u64s(first, 4n, second, 4n));
    expect(formatSyscall(SYS.readv, [3n, iov, 2n], 6n, memory))
      .toBe('readv(3, [{iov_base="abcd", iov_len=4}, {iov_base="ef", iov_len=4}], 2) = 6');
  });

  test("pipe2 shows the new descriptors", () => {
    const memory = new FakeMemory();
    const fds = memory.map(0x1000, Uint8Array.from([3, 0, 0, 0, 4, 0, 0, 0]));
    expect(formatSyscall(SYS.pipe2, [fds, BigInt(OpenFlags.O_CLOEXEC)], 0n, memory)).toBe("pipe2([3, 4], O_CLOEXEC) = 0");
  });

  test("uname shows the system name", () => {
    const memory = new FakeMemory();
    const uts = new Uint8Array(390);
    uts.set(new TextEncoder().encode("Linux"), 0);
    uts.set(new TextEncoder().encode("sandbox"), 65);
    const addr = memory.map(0x1000, uts);
    expect(formatSyscall(SYS.uname, [addr], 0n, memory)).toBe('uname({sysname="Linux", nodename="sandbox", ...}) = 0');
  });

  test("clock_gettime and arch_prctl decode enums", () => {
    const memory = new FakeMemory();
    const ts = memory.map(0x1000, u64s(5n, 250n));
    expect(formatSyscall(SYS.clock_gettime, [1n, ts], 0n, memory)).toBe("clock_gettime(CLOCK_MONOTONIC, {tv_sec=5, tv_nsec=250}) = 0");
    expect(formatSyscall(SYS.arch_prctl, [0x1002n, 0x7fc7_f919_c740n], 0n, memory)).toBe("arch_prctl(ARCH_SET_FS, 0x7fc7f919c740) = 0");
    expect(formatSyscall(SYS.ioctl, [1n, 0x5413n, 0x7ffen], error(Errno.ENOTTY), memory))
      .toBe("ioctl(1, TIOCGWINSZ, 0x7ffe) = -1 ENOTTY (Inappropriate ioctl for device)");
  });

  test("restart errnos print after a question mark", () => {
    const memory = new FakeMemory();
    expect(formatSyscall(SYS.pause, [], error(Errno.ERESTARTNOHAND), memory))
      .toBe("pause() = ? ERESTARTNOHAND (To be restarted if no handler)");
  });

  test("unreadable strings print as addresses", () => {
    const memory = new FakeMemory();
    expect(formatSyscall(SYS.openat, [BigInt.asUintN(64, -100n), 0xdead_0000n, 0n, 0n], error(Errno.EFAULT), memory))
      .toBe("openat(AT_FDCWD, 0xdead0000, O_RDONLY) = -1 EFAULT (Bad address)");
    expect(formatSyscall(SYS.openat, [BigInt.asUintN(64, -100n), 0n, 0n, 0n], error(Errno.EFAULT), memory))
      .toBe("openat(AT_FDCWD, NULL, O_RDONLY) = -1 EFAULT (Bad address)");
  });

  test("string cut at an unmapped page is marked", () => {
    const memory = new FakeMemory();
    const path = memory.map(0x1ffc, "abcd");
    expect(formatSyscall(SYS.chdir, [path], error(Errno.EFAULT), memory)).toBe('chdir("abcd"...) = -1 EFAULT (Bad address)');
  });

  test("string arguments are cut at 32 bytes, paths are not", () => {
    const memory = new FakeMemory();
    const long = "x".repeat(40);
    const name = memory.string(0x1000, long);
    expect(formatSyscall(SYS.memfd_create, [name, 1n], 3n, memory)).toBe(`memfd_create("${"x".repeat(32)}"..., 0x1) = 3`);
    expect(formatSyscall(SYS.chdir, [name], 0n, memory)).toBe(`chdir("${long}") = 0`);
  });

  test("every syscall formats garbage memory and arguments", () => {
    // Every address is readable and filled with bytes from a fixed pseudo-random sequence.
    let seed = 12345;
    const memory: StraceMemory = {
      read: (_addr, length) => Uint8Array.from({ length }, () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed >> 16 & 0xff;
      }),
    };
    const argSets = [
      [0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0x7fff_ffffn, 0x1_0000_0000n, 4096n, 40n],
      [1n, 0x1000n, 64n, 3n, 0x1000n, 0x10n],
    ];
    for (let nr = 0; nr < 470; nr++) {
      for (const args of argSets) {
        for (const result of [0n, 17n, BigInt.asUintN(64, -14n), undefined]) {
          expect(formatSyscall(nr, args, result, memory)).toMatch(/^\w+\(.*\) = /s);
        }
      }
    }
  });

  test("every syscall formats without throwing on empty memory", () => {
    const memory = new FakeMemory();
    for (let nr = 0; nr < 470; nr++) {
      const text = formatSyscall(nr, [1n, 0x1000n, 2n, 3n, 4n, 5n], 0n, memory);
      expect(text).toMatch(/^\w+\(.*\) = /);
      expect(text).not.toContain("/* unhandled");
    }
  });
});

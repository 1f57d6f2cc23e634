import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, test } from "vitest";
import { probeMacros } from "../test/cProbe";
import { SYS, SYSCALLS, syscallInfo, syscallName, syscallNumber } from "./syscalls";

const packageDir = join(__dirname, "..");

test("generated table is up to date", () => {
  // Exits non-zero, and so throws, when the committed file differs from the generator's output.
  execFileSync(process.execPath, [join(packageDir, "scripts", "gen-syscalls.mjs"), "--check"], { stdio: "pipe" });
});

test("numbers match the host's sys/syscall.h", () => {
  const names = SYSCALLS.map((info) => `SYS_${info.name}`);
  const probed = probeMacros(["sys/syscall.h"], names);
  let found = 0;
  for (const info of SYSCALLS) {
    const expected = probed.get(`SYS_${info.name}`);
    if (expected !== undefined) {
      found++;
      expect(BigInt(info.number), info.name).toBe(expected);
    } else {
      // Debian 12's headers stop at 450 and lack uretprobe and uprobe.
      expect(info.number === 335 || info.number === 336 || info.number > 450, info.name).toBe(true);
    }
  }
  expect(found).toBe(362);
});

test("table spot checks", () => {
  expect(syscallName(0)).toBe("read");
  expect(syscallName(59)).toBe("execve");
  expect(syscallName(257)).toBe("openat");
  expect(syscallName(262)).toBe("newfstatat");
  expect(syscallName(435)).toBe("clone3");
  expect(syscallName(451)).toBe("cachestat");
  expect(syscallName(453)).toBe("map_shadow_stack");
  expect(syscallName(462)).toBe("mseal");
  expect(syscallName(467)).toBe("open_tree_attr");
  expect(syscallName(469)).toBe("file_setattr");
  expect(syscallNumber("exit_group")).toBe(231);
  expect(syscallNumber("futex_wait")).toBe(455);
  expect(SYS.openat).toBe(257);
  expect(SYS.rt_sigreturn).toBe(15);
  expect(SYS.uretprobe).toBe(335);
});

test("unknown numbers and names", () => {
  expect(syscallName(337)).toBeUndefined();
  expect(syscallName(470)).toBeUndefined();
  expect(syscallName(-1)).toBeUndefined();
  expect(syscallName(1.5)).toBeUndefined();
  expect(syscallNumber("nosuchcall")).toBeUndefined();
  expect(syscallInfo(400)).toBeUndefined();
});

test("table is sorted and complete", () => {
  expect(SYSCALLS).toHaveLength(383);
  for (let i = 1; i < SYSCALLS.length; i++) {
    expect(SYSCALLS[i].number).toBeGreaterThan(SYSCALLS[i - 1].number);
  }
  expect(SYSCALLS.at(-1)?.number).toBe(469);
  for (const info of SYSCALLS) {
    expect(info.args.length, info.name).toBeLessThanOrEqual(6);
    for (const kind of info.args) {
      const related = /:(\d)$/.exec(kind);
      if (related) {
        expect(Number(related[1]), `${info.name} ${kind}`).toBeLessThan(info.args.length);
      }
    }
  }
});

test("common signatures are precise", () => {
  expect(syscallInfo(SYS.read)?.args).toEqual(["fd", "bufout", "size"]);
  expect(syscallInfo(SYS.openat)?.args).toEqual(["dirfd", "path", "oflags", "openmode:2"]);
  expect(syscallInfo(SYS.mmap)?.args).toEqual(["ptr", "size", "prot", "mapflags", "fd", "hex"]);
  expect(syscallInfo(SYS.mmap)?.result).toBe("hex");
  expect(syscallInfo(SYS.exit_group)?.result).toBe("none");
});

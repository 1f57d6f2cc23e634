// The Sentry opens no host path after start-up: with a seccomp filter that
// fails every open in its Node process, real programs still run and match
// their native runs, because host files come from the gofers only.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PLATFORMS, runNative } from "./harness";

const COMMANDS = [
  ["/bin/sh", "-c", "ls /usr/bin | sort | head -5"],
  ["/bin/busybox", "sha256sum", "/etc/passwd"],
  ["/bin/bash", "-c", "for i in 1 2 3; do echo $i; done | wc -l"],
  ["/usr/bin/python3", "-c", 'import subprocess; print(subprocess.run(["echo","hi"],capture_output=True).stdout)'],
];

describe.each(PLATFORMS)("no host opens on %s", (platform) => {
  it("runs programs with every host open forbidden", () => {
    const args = [join(__dirname, "fixtures/no-host-open.cjs"), platform, ...COMMANDS.flatMap((argv) => ["--", ...argv])];
    const result = spawnSync(process.execPath, args, {
      cwd: "/var/tmp",
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, UV_USE_IO_URING: "0" },
    });
    const expected = COMMANDS.map((argv) => `${runNative(argv, { cwd: "/var/tmp" }).stdout}status {"kind":"exited","code":0}\n`).join("");
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${expected}host open failed with EPERM\n`);
    expect(result.status).toBe(0);
  });
});

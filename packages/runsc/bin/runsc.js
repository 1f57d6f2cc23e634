#!/usr/bin/env node
"use strict";
require("./compile-cache").installCompileCache();
// The ptrace platform waits for each running application thread on a thread
// of libuv's pool. With the default of 4 pool threads, a program with more
// threads that compute without system calls kept every pool thread waiting,
// and nothing served its other threads. libuv starts every pool thread at
// once, and threads count against RLIMIT_NPROC, so the pool takes at most a
// quarter of that limit. libuv reads the size when the pool starts, after
// this; the sandboxed program does not see the variable.
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  let size = 128;
  try {
    const soft = /^Max processes\s+(\S+)/m.exec(require("node:fs").readFileSync("/proc/self/limits", "utf8"))?.[1];
    if (soft !== undefined && soft !== "unlimited") size = Math.max(4, Math.min(size, Math.floor(Number(soft) / 4)));
  } catch {
    // Without /proc, keep the size.
  }
  process.env.UV_THREADPOOL_SIZE = String(size);
  globalThis[Symbol.for("@sandbox/runsc/threadpool-size")] = true;
}
// `runsc do` serves the host root through a gofer, a Node process of its
// own. The launcher beside this file (bin/runsc) starts it at the same time
// as this process and passes its pid. Without the launcher, it starts here,
// before the rest of runsc loads, so that the two start-ups overlap. The
// sandbox adopts it, and an unused gofer exits with this process. The
// variable is for this process only, so the sandboxed program and other
// gofers do not see it.
const handedOffGofer = process.env.SANDBOX_GOFER_HANDOFF_PID;
delete process.env.SANDBOX_GOFER_HANDOFF_PID;
if (process.argv.slice(2).includes("do")) {
  try {
    if (handedOffGofer !== undefined && /^[1-9][0-9]*$/.test(handedOffGofer)) {
      // The sandbox connects to it when it takes it, and falls back to a gofer of its own.
      require("@sandbox/gofer/handoff").expectHandedOffGofer(Number(handedOffGofer), { root: "/", readOnly: true });
    } else {
      require("@sandbox/gofer/prestart").prestartGofer({ root: "/", readOnly: true });
    }
  } catch {
    // The sandbox starts its own gofer, and reports any error, later.
  }
}
require("../dist/cli.js").runFromCommandLine();

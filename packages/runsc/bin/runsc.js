#!/usr/bin/env node
"use strict";
require("./compile-cache").installCompileCache();
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

#!/usr/bin/env node
"use strict";
// `runsc do` serves the host root through a gofer, a Node process of its
// own. Starting it before the rest of runsc loads overlaps the two start-ups;
// the sandbox adopts it, and an unused gofer exits with this process.
if (process.argv.slice(2).includes("do")) {
  try {
    require("@sandbox/gofer/prestart").prestartGofer({ root: "/", readOnly: true });
  } catch {
    // The sandbox starts its own gofer, and reports any error, later.
  }
}
require("../dist/cli.js").runFromCommandLine();

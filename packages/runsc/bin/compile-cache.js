"use strict";
// A code cache for runsc's own modules. V8 compiles a function the first
// time it runs, and a sandbox's first system calls, page faults and program
// loads run hundreds of functions for the first time. A short program such
// as `python3 -c pass` took about 30 ms less with the cache (300 ms before). V8 can save
// the bytecode of every function compiled so far (Script.createCachedData),
// and a later process that compiles the same source with that data skips
// the work. Entries are written at exit when missing, and rewritten by a
// run that took clearly longer than the one that wrote them. Node 22 does this itself (module.enableCompileCache); this file
// does it on Node 20 for the CommonJS files of @sandbox packages and koffi.
//
// The cache is a directory of the user's own (SANDBOX_RUNSC_COMPILE_CACHE,
// by default $XDG_CACHE_HOME/sandbox-runsc or ~/.cache/sandbox-runsc; "off"
// turns it off). Its files hold code that this process runs, so a directory
// that another user could write is not used. An entry is named by a hash of
// Node's version, the file name and the source, and V8 rejects data of
// another V8 or other flags, so a stale entry costs nothing but its reading.
const Module = require("node:module");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

/**
 * How many seconds longer than the run that wrote an entry a run must have
 * taken to replace it. A longer run has most likely compiled more of runsc,
 * and serializing costs milliseconds that a run like the last should not pay.
 */
const LONGER_TO_REWRITE = 0.02;
/**
 * Bytes before the V8 data in an entry: the seconds its run took (a
 * float64), then the SHA-1 digest of the data. V8 does not check the data
 * itself, and damaged data crashed it, so an entry whose digest does not
 * match is not used.
 */
const HEADER_BYTES = 8 + 20;

/** Returns the cache directory to use, or undefined if none is safe to use. */
function cacheDirectory() {
  const setting = process.env.SANDBOX_RUNSC_COMPILE_CACHE;
  if (setting === "off") return undefined;
  const base = process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, ".cache") : undefined);
  const directory = setting || (base && path.join(base, "sandbox-runsc"));
  if (!directory || !path.isAbsolute(directory)) return undefined;
  try {
    fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
    const stat = fs.lstatSync(directory);
    const uid = process.getuid?.();
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) return undefined;
    return directory;
  } catch {
    return undefined;
  }
}

/** Reads a cache entry of this user: the V8 data and how long its run took, or undefined. */
function readEntry(file) {
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const stat = fs.fstatSync(fd);
      const uid = process.getuid?.();
      if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || stat.size <= HEADER_BYTES) return undefined;
      const bytes = fs.readFileSync(fd);
      const data = bytes.subarray(HEADER_BYTES);
      if (!createHash("sha1").update(data).digest().equals(bytes.subarray(8, HEADER_BYTES))) return undefined;
      return { data, seconds: bytes.readDoubleLE(0) };
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Writes a cache entry through a temporary file, so that readers never see part of one. */
function writeEntry(file, data, seconds) {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeDoubleLE(seconds, 0);
    createHash("sha1").update(data).digest().copy(header, 8);
    fs.writeFileSync(temporary, Buffer.concat([header, data]), { mode: 0o600 });
    fs.renameSync(temporary, file);
  } catch {
    // A full disk or a confined process: the next run compiles again.
    fs.rmSync(temporary, { force: true });
  }
}

/** Builds the `require` that Node gives a module, for a module compiled here. */
function requireFor(module) {
  const moduleRequire = (id) => module.require(id);
  moduleRequire.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
  moduleRequire.resolve.paths = (request) => Module._resolveLookupPaths(request, module);
  moduleRequire.main = require.main;
  moduleRequire.cache = Module._cache;
  moduleRequire.extensions = Module._extensions;
  return moduleRequire;
}

/** Reports whether `filename` is one of the modules this cache is for. */
function cached(filename) {
  return /[/\\](@sandbox[/\\][^/\\]+|packages[/\\][^/\\]+|koffi)[/\\].*\.js$/.test(filename) && !filename.includes(`${path.sep}bin${path.sep}`);
}

/** Installs the cache for modules loaded from now on. Does nothing when no safe directory exists or Node has its own. */
function installCompileCache() {
  if (typeof Module.enableCompileCache === "function") {
    const directory = cacheDirectory();
    if (directory !== undefined) Module.enableCompileCache(directory);
    return;
  }
  const directory = cacheDirectory();
  if (directory === undefined) return;
  const scripts = [];
  // For runsc's --debug log: how many modules came from the cache.
  const stats = { directory, fromCache: 0, compiled: 0 };
  globalThis[Symbol.for("@sandbox/runsc/compile-cache")] = stats;
  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileWithCache(content, filename) {
    if (!cached(filename)) return compile.call(this, content, filename);
    const key = createHash("sha256").update(process.version).update("\0").update(filename).update("\0").update(content).digest("hex");
    const file = path.join(directory, key.slice(0, 40));
    const entry = readEntry(file);
    // A "#!" line is valid only at the very start of a script, which the wrapper is not.
    const source = content.startsWith("#!") ? `//${content.slice(2)}` : content;
    const script = new vm.Script(Module.wrap(source), { filename, cachedData: entry?.data });
    // A rejected entry counts as none: it is rewritten whatever its run took.
    const used = entry !== undefined && !script.cachedDataRejected;
    if (used) stats.fromCache++;
    else stats.compiled++;
    scripts.push({ script, file, seconds: used ? entry.seconds : 0 });
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(this.exports, this.exports, requireFor(this), this, filename, path.dirname(filename));
  };
  process.once("exit", () => {
    const seconds = process.uptime();
    for (const { script, file, seconds: before } of scripts) {
      if (before === 0 || seconds > before + LONGER_TO_REWRITE) writeEntry(file, script.createCachedData(), seconds);
    }
  });
}

module.exports = { installCompileCache };
